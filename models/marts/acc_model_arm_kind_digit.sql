-- One row per model × arm × kind × digit: accuracy over responses that came back, with a Wilson 95%
-- interval. API errors and arms that never ran are not counted; an unparseable answer counts as not
-- correct. Counted from graded_instances, which holds each instance's per-arm outcome.
with instances as (
    select * from {{ ref('graded_instances') }}
),

counted as (
    {%- for arm in arm_codes() %}
    select
        model, '{{ arm }}' as arm, kind, digit,
        sum({{ arm }}_answered) as n,
        sum({{ arm }}_correct) as n_correct,
        sum({{ arm }}_reported) as n_reported,
        sum({{ arm }}_correct_reported) as n_correct_reported
    from instances
    group by model, kind, digit
    {{ "union all" if not loop.last }}
    {%- endfor %}
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
