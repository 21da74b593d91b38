-- One row per model × kind: code-arm accuracy minus NL accuracy on paired instances, i.e. responses
-- of both arms that came back for the same (problem_id, seed, sample).
with graded as (
    select * from {{ ref('graded_responses') }} where is_answered and arm in ('code', 'nl')
),

paired as (
    select
        c.model, c.kind, c.problem_id, c.seed,
        c.is_correct as code_correct,
        n.is_correct as nl_correct
    from graded as c
    join graded as n
        on n.model = c.model and n.problem_id = c.problem_id and n.seed = c.seed and n.sample = c.sample
       and n.arm = 'nl'
    where c.arm = 'code'
)

select
    model, kind,
    count(*) as n_pairs,
    avg(code_correct::int) as accuracy_code,
    avg(nl_correct::int) as accuracy_nl,
    avg(code_correct::int) - avg(nl_correct::int) as delta,
    count_if(code_correct and not nl_correct) as n_code_only,
    count_if(nl_correct and not code_correct) as n_nl_only
from paired
group by all
