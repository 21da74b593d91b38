-- One row per model × seed × kind × digit: what was expected against what was collected, per arm. The
-- plan's Phase-2 validation as a table. A cell is expected when its model and seed, and its kind and
-- digit, both appear among the same source's responses (so a seed or a digit a model skipped shows up
-- as a cell with nothing collected); the instances expected are the problems known for the kind × digit.
with responses as (
    select source, model, seed, kind, digit, arm, problem_id, is_answered
    from {{ ref('graded_responses') }}
),

problems as (
    select kind, digit, count(*) as n_expected from {{ ref('stg_problems') }} group by all
),

arms as (
    select count(*) as n_arms from {{ ref('arms') }}
),

cells as (
    select distinct r.model, r.seed, c.kind, c.digit
    from (select distinct source, model, seed from responses) as r
    join (select distinct source, kind, digit from responses) as c using (source)
),

collected as (
    select
        model, seed, kind, digit,
        count(distinct problem_id) as n_instances,
        count(*) as n_responses,
        count(*) filter (where arm = 'nl' and is_answered) as n_nl,
        count(*) filter (where arm = 'sim' and is_answered) as n_sim,
        count(*) filter (where arm = 'controlsim' and is_answered) as n_controlsim,
        count(*) filter (where arm = 'code' and is_answered) as n_code,
        count(*) filter (where not is_answered) as n_unanswered
    from responses
    group by all
),

joined as (
    select
        cells.model, cells.seed, cells.kind, cells.digit,
        coalesce(problems.n_expected, collected.n_instances, 0) as n_expected,
        coalesce(collected.n_instances, 0) as n_instances,
        coalesce(collected.n_responses, 0) as n_responses,
        coalesce(collected.n_nl, 0) as n_nl,
        coalesce(collected.n_sim, 0) as n_sim,
        coalesce(collected.n_controlsim, 0) as n_controlsim,
        coalesce(collected.n_code, 0) as n_code,
        coalesce(collected.n_unanswered, 0) as n_unanswered
    from cells
    left join collected using (model, seed, kind, digit)
    left join problems using (kind, digit)
)

select
    *,
    greatest(n_expected - n_instances, 0) as n_missing_instances,
    least(n_nl, n_sim, n_controlsim, n_code) = greatest(n_nl, n_sim, n_controlsim, n_code) as arms_balanced,
    n_instances >= n_expected
        and least(n_nl, n_sim, n_controlsim, n_code) >= n_expected as is_complete
from joined
