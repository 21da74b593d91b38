-- One row per arm × kind, every model pooled: accuracy over the responses that came back, with a Wilson
-- 95% interval whose unit is the instance (a problem answered by several models counts once).
with instances as (
    select * from {{ ref('acc_model_arm_instance') }}
),

pooled_instances as (
    -- one row per arm × kind × instance: every model's responses to it pooled
    select
        arm,
        kind,
        problem_id,
        sum(n) as n,
        sum(n_correct) as n_correct,
        sum(n_reported) as n_reported,
        sum(n_correct_reported) as n_correct_reported,
        count(*) as n_models
    from instances
    group by arm, kind, problem_id
),

counted as (
    select
        arm,
        kind,
        count(*) as n_instances,
        max(n_models) as n_models,
        cast(sum(n) as bigint) as n,
        cast(sum(n_correct) as bigint) as n_correct,
        cast(sum(n_reported) as bigint) as n_reported,
        cast(sum(n_correct_reported) as bigint) as n_correct_reported
    from pooled_instances
    group by arm, kind
)

select
    arm,
    kind,
    n_models,
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
