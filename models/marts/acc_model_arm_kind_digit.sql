-- One row per model × arm × kind × digit: accuracy over responses that came back, with a Wilson 95%
-- interval. API errors and arms that never ran are not counted; an unparseable answer counts as not
-- correct. Counted from graded_instances, which holds each instance's per-arm outcome: one pass sums
-- every arm, then the arms are unpivoted into rows.
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
    select model, kind, digit, unnest([
        {%- for arm in arm_codes() %}
        {arm: '{{ arm }}', n: {{ arm }}_n, n_correct: {{ arm }}_n_correct,
         n_reported: {{ arm }}_n_reported, n_correct_reported: {{ arm }}_n_correct_reported}{{ "," if not loop.last }}
        {%- endfor %}
    ], recursive := true)
    from summed
)

select
    model, arm, kind, digit,
    n::bigint as n,
    n_correct::bigint as n_correct,
    n_correct::double / n as accuracy,
    {{ wilson_low('n_correct', 'n') }} as ci_low,
    {{ wilson_high('n_correct', 'n') }} as ci_high,
    n_reported::bigint as n_reported,
    n_correct_reported::bigint as n_correct_reported,
    n_correct_reported::double / nullif(n_reported, 0) as accuracy_reported
from counted
where n > 0
