-- One row per model × kind: code-arm accuracy minus NL accuracy on paired instances, i.e. responses of
-- both arms that came back for the same (problem_id, seed, sample). The discordant counts are what a
-- McNemar test of the difference uses.
with graded as (
    select model, kind, problem_id, seed, sample, arm, is_correct
    from {{ ref('graded_responses') }}
    where is_answered and arm in ('code', 'nl')
),

paired as (
    select
        model, kind, problem_id, seed, sample,
        bool_or(is_correct) filter (where arm = 'code') as code_correct,
        bool_or(is_correct) filter (where arm = 'nl') as nl_correct
    from graded
    group by all
    having count(*) filter (where arm = 'code') > 0 and count(*) filter (where arm = 'nl') > 0
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
