-- One row per model × arm × kind × digit: accuracy over responses that came back, with a Wilson 95%
-- interval. API errors and arms that never ran are not counted; an unparseable answer counts as not
-- correct. Counted from graded_instances, which holds each instance's per-arm outcome: one pass sums
-- every arm, then the arms are unpivoted into rows (a join with the seed of arms, the same in both engines).
with summed as (
    select
        model, kind, digit,
        {%- for arm in arm_codes() %}
        sum({{ arm }}_answered) as {{ arm }}_n,
        sum({{ arm }}_correct) as {{ arm }}_n_correct,
        sum({{ arm }}_reported) as {{ arm }}_n_reported,
        sum({{ arm }}_correct_reported) as {{ arm }}_n_correct_reported{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('graded_instances') }}
    group by model, kind, digit
),

counted as (
    -- the arms unpivoted into rows: each summed row once per arm of the seed `arms`
    select
        s.model, a.arm, s.kind, s.digit,
        {%- for measure in ['n', 'n_correct', 'n_reported', 'n_correct_reported'] %}
        case a.arm{% for arm in arm_codes() %} when '{{ arm }}' then s.{{ arm }}_{{ measure }}{% endfor %} end as {{ measure }}
        {{- "," if not loop.last }}
        {%- endfor %}
    from summed as s
    cross join {{ ref('arms') }} as a
)

select
    model, arm, kind, digit,
    cast(n as bigint) as n,
    cast(n_correct as bigint) as n_correct,
    cast(n_correct as double) / n as accuracy,
    {{ wilson_low('n_correct', 'n') }} as ci_low,
    {{ wilson_high('n_correct', 'n') }} as ci_high,
    cast(n_reported as bigint) as n_reported,
    cast(n_correct_reported as bigint) as n_correct_reported,
    cast(n_correct_reported as double) / nullif(n_reported, 0) as accuracy_reported
from counted
where n > 0
