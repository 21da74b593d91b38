-- One row per model × arm × kind: accuracy over responses that came back, with a Wilson 95% interval.
-- API errors and arms that never ran are not counted; an unparseable answer counts as not correct.
-- The *_reported columns use the source's own verdict where one exists (imports). Summed from the
-- digit-level mart, which already counted the responses.
with counted as (
    select
        model, arm, kind,
        sum(n) as n,
        sum(n_correct) as n_correct,
        sum(n_reported) as n_reported,
        sum(n_correct_reported) as n_correct_reported
    from {{ ref('acc_model_arm_kind_digit') }}
    group by all
)

select
    model, arm, kind,
    n::bigint as n,
    n_correct::bigint as n_correct,
    n_correct::double / n as accuracy,
    {{ wilson_low('n_correct', 'n') }} as ci_low,
    {{ wilson_high('n_correct', 'n') }} as ci_high,
    n_reported::bigint as n_reported,
    n_correct_reported::bigint as n_correct_reported,
    n_correct_reported::double / nullif(n_reported, 0) as accuracy_reported
from counted
