-- One row per model × problem instance × arm: the responses that came back (the instance's seed and
-- sample replicates), how many were correct, and their mean. The instance, not the replicate, is the unit
-- of every interval and test evalhouse publishes: the accuracy marts and the analysis start here.
with responses as (
    select * from {{ ref('graded_responses') }}
    where is_answered
),

models as (
    select
        model,
        lab
    from {{ ref('int_models') }}
),

counted as (
    select
        model,
        problem_id,
        kind,
        digit,
        arm,
        count(*) as n,
        count(case when is_correct then 1 end) as n_correct,
        count(reported_correct) as n_reported,
        count(case when reported_correct then 1 end) as n_correct_reported
    from responses
    group by model, problem_id, kind, digit, arm
)

select
    counted.model,
    models.lab,
    counted.problem_id,
    counted.kind,
    counted.digit,
    counted.arm,
    counted.n,
    counted.n_correct,
    cast(counted.n_correct as double) / counted.n as accuracy,
    counted.n_reported,
    counted.n_correct_reported
from counted
inner join models on counted.model = models.model
