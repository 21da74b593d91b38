-- One row per model × seed × kind × digit: instances expected (problems of that cell) against responses
-- collected per arm, and whether the arms are balanced. The plan's Phase-2 validation as a table.
with responses as (
    select * from {{ ref('graded_responses') }}
),

problems as (
    select kind, digit, count(*) as n_expected from {{ ref('stg_problems') }} group by all
),

collected as (
    select
        model, seed, kind, digit,
        count(distinct problem_id) as n_instances,
        count_if(arm = 'nl' and is_answered) as n_nl,
        count_if(arm = 'sim' and is_answered) as n_sim,
        count_if(arm = 'controlsim' and is_answered) as n_controlsim,
        count_if(arm = 'code' and is_answered) as n_code,
        count_if(not is_answered) as n_errors
    from responses
    group by all
)

select
    c.*,
    p.n_expected,
    coalesce(p.n_expected, c.n_instances) - c.n_instances as n_missing_instances,
    least(n_nl, n_sim, n_controlsim, n_code) = greatest(n_nl, n_sim, n_controlsim, n_code) as arms_balanced
from collected as c
left join problems as p using (kind, digit)
