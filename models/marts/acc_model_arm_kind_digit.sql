-- One row per model × arm × kind × digit: as acc_model_arm_kind, one level finer.
with graded as (
    select * from {{ ref('graded_responses') }} where is_answered
),

counted as (
    select
        model, arm, kind, digit,
        count(*) as n,
        count(*) filter (where is_correct) as n_correct,
        count(reported_correct) as n_reported,
        count(*) filter (where reported_correct) as n_correct_reported
    from graded
    group by all
)

select
    model, arm, kind, digit, n, n_correct,
    n_correct::double / n as accuracy,
    {{ wilson_low('n_correct', 'n') }} as ci_low,
    {{ wilson_high('n_correct', 'n') }} as ci_high,
    n_reported, n_correct_reported,
    n_correct_reported::double / nullif(n_reported, 0) as accuracy_reported
from counted
