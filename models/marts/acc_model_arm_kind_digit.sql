-- One row per model × arm × kind × digit: accuracy over the responses that came back, with a Wilson 95%
-- interval whose unit is the instance. API errors and arms that never ran are not counted; an unparseable
-- answer counts as not correct.
with instances as (
    select * from {{ ref('acc_model_arm_instance') }}
),

counted as (
    select
        model,
        arm,
        kind,
        digit,
        count(*) as n_instances,
        cast(sum(n) as bigint) as n,
        cast(sum(n_correct) as bigint) as n_correct,
        cast(sum(n_reported) as bigint) as n_reported,
        cast(sum(n_correct_reported) as bigint) as n_correct_reported
    from instances
    group by model, arm, kind, digit
)

select
    model,
    arm,
    kind,
    digit,
    n,
    n_correct,
    cast(n_correct as double) / n as accuracy,
    {{ wilson_low('n_correct', 'n', 'n_instances') }} as ci_low,
    {{ wilson_high('n_correct', 'n', 'n_instances') }} as ci_high,
    n_reported,
    n_correct_reported,
    cast(n_correct_reported as double) / nullif(n_reported, 0) as accuracy_reported,
    n_instances
from counted
