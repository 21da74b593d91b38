-- One row per model × seed × kind × digit: what was expected against what was collected, per arm. The
-- plan's Phase-2 validation as a table. A cell is expected when its model and seed, and its kind and
-- digit, both appear among the same source's responses (so a seed or a digit a model skipped shows up
-- as a cell with nothing collected); the instances expected are the problems known for the kind × digit.
with collected as (
    -- the one pass over the responses
    select
        model, seed, kind, digit,
        count(distinct problem_id) as n_instances,
        count(*) as n_responses,
        count(*) filter (where arm = 'nl' and is_answered) as n_nl,
        count(*) filter (where arm = 'sim' and is_answered) as n_sim,
        count(*) filter (where arm = 'controlsim' and is_answered) as n_controlsim,
        count(*) filter (where arm = 'code' and is_answered) as n_code,
        count(*) filter (where not is_answered) as n_unanswered,
        list(distinct source) as sources
    from {{ ref('graded_responses') }}
    group by all
),

by_source as (
    select model, seed, kind, digit, unnest(sources) as source from collected
),

cells as (
    select distinct r.model, r.seed, c.kind, c.digit
    from (select distinct source, model, seed from by_source) as r
    join (select distinct source, kind, digit from by_source) as c using (source)
),

problems as (
    select kind, digit, count(*) as n_expected from {{ ref('stg_problems') }} group by all
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
