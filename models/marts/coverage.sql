-- One row per model × seed × kind × digit: what was expected against what was collected, per arm. The
-- plan's Phase-2 validation as a table. A model is expected to cover, in each of its seeds, every kind ×
-- digit it has responses for in any seed (so a seed missing a kind or a digit shows up with nothing
-- collected); the instances expected per cell are the problems known for the kind × digit.
with responses as (
    select * from {{ ref('graded_responses') }}
),

collected as (
    select
        model,
        seed,
        kind,
        digit,
        count(distinct problem_id) as n_instances,
        count(*) as n_responses,
        count(case when arm = 'nl' and is_answered then 1 end) as n_nl,
        count(case when arm = 'sim' and is_answered then 1 end) as n_sim,
        count(case when arm = 'controlsim' and is_answered then 1 end) as n_controlsim,
        count(case when arm = 'code' and is_answered then 1 end) as n_code,
        count(case when not is_answered then 1 end) as n_unanswered
    from responses
    group by model, seed, kind, digit
),

model_seeds as (
    select distinct
        model,
        seed
    from collected
),

model_cells as (
    select distinct
        model,
        kind,
        digit
    from collected
),

cells as (
    -- every kind × digit a model has, in each of its seeds
    select
        model_seeds.model,
        model_seeds.seed,
        model_cells.kind,
        model_cells.digit
    from model_seeds
    inner join model_cells on model_seeds.model = model_cells.model
),

problems as (
    select
        kind,
        digit,
        count(*) as n_expected
    from {{ ref('stg_problems') }}
    group by kind, digit
),

joined as (
    select
        cells.model,
        cells.seed,
        cells.kind,
        cells.digit,
        coalesce(problems.n_expected, collected.n_instances, 0) as n_expected,
        coalesce(collected.n_instances, 0) as n_instances,
        cast(coalesce(collected.n_responses, 0) as bigint) as n_responses,
        cast(coalesce(collected.n_nl, 0) as bigint) as n_nl,
        cast(coalesce(collected.n_sim, 0) as bigint) as n_sim,
        cast(coalesce(collected.n_controlsim, 0) as bigint) as n_controlsim,
        cast(coalesce(collected.n_code, 0) as bigint) as n_code,
        cast(coalesce(collected.n_unanswered, 0) as bigint) as n_unanswered
    from cells
    left join collected
        on
            cells.model = collected.model
            and cells.seed = collected.seed
            and cells.kind = collected.kind
            and cells.digit = collected.digit
    left join problems on cells.kind = problems.kind and cells.digit = problems.digit
)

select
    *,
    greatest(n_expected - n_instances, 0) as n_missing_instances,
    least(n_nl, n_sim, n_controlsim, n_code) = greatest(n_nl, n_sim, n_controlsim, n_code) as arms_balanced,
    n_instances >= n_expected
    and least(n_nl, n_sim, n_controlsim, n_code) >= n_expected as is_complete
from joined
