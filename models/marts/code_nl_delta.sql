-- One row per model × kind: code-arm accuracy minus NL accuracy on paired instances, i.e. instances
-- (problem_id, seed, sample) where both arms came back. The discordant counts are what a McNemar test of
-- the difference uses.
with paired as (
    select model, kind, code_correct > 0 as code_correct, nl_correct > 0 as nl_correct
    from {{ ref('graded_instances') }}
    where code_answered > 0 and nl_answered > 0
)

select
    model, kind,
    count(*) as n_pairs,
    avg(code_correct::int) as accuracy_code,
    avg(nl_correct::int) as accuracy_nl,
    avg(code_correct::int) - avg(nl_correct::int) as delta,
    count(*) filter (where code_correct and not nl_correct) as n_code_only,
    count(*) filter (where nl_correct and not code_correct) as n_nl_only
from paired
group by all
