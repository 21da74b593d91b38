-- One row per model × kind: code-arm accuracy minus NL accuracy on paired responses, i.e. a (problem_id,
-- seed, sample) where both arms came back. The discordant counts are what a McNemar test of the
-- difference uses when each instance has one replicate; n_instances counts the distinct instances, the
-- unit the analysis tests with (evalhouse analyze code-vs-nl).
with responses as (
    select
        model,
        kind,
        problem_id,
        seed,
        sample,
        arm,
        is_correct
    from {{ ref('graded_responses') }}
    where is_answered and arm in ('code', 'nl')
),

paired as (
    select
        model,
        kind,
        problem_id,
        max(case when arm = 'code' then cast(is_correct as int) end) as code_correct,
        max(case when arm = 'nl' then cast(is_correct as int) end) as nl_correct
    from responses
    group by model, kind, problem_id, seed, sample
)

select
    model,
    kind,
    count(*) as n_pairs,
    avg(code_correct) as accuracy_code,
    avg(nl_correct) as accuracy_nl,
    avg(code_correct) - avg(nl_correct) as delta,
    count(case when code_correct = 1 and nl_correct = 0 then 1 end) as n_code_only,
    count(case when nl_correct = 1 and code_correct = 0 then 1 end) as n_nl_only,
    count(distinct problem_id) as n_instances
from paired
where code_correct is not null and nl_correct is not null
group by model, kind
