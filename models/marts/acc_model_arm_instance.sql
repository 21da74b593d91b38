{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    unique_key=['model', 'problem_id', 'arm'],
    incremental_strategy='merge',
    merge_clauses={
        'when_matched': [
            {'condition': 'DBT_INTERNAL_SOURCE.n = 0', 'action': 'delete'},
            {'action': 'update', 'mode': 'by_name'},
        ],
        'when_not_matched': [
            {'condition': 'DBT_INTERNAL_SOURCE.n > 0', 'action': 'insert', 'mode': 'by_name'},
        ],
    },
) }}
-- One row per model × problem instance × arm: the responses that came back (the instance's seed and
-- sample replicates), how many were correct, and their mean. The instance, not the replicate, is the unit
-- of every interval and test evalhouse publishes: the accuracy marts and the analysis start here.
-- Incremental (DuckDB): only the instances with a response this build graded are counted again; one whose
-- responses all turned out unanswered comes with n = 0, and the merge removes it.
with graded as (
    -- the columns counted only: read twice (incremental), this is materialised
    select
        model,
        problem_id,
        kind,
        digit,
        arm,
        is_answered,
        is_correct,
        reported_correct,
        graded_in_build
    from {{ ref('graded_responses') }}
),

models as (
    select
        model,
        lab
    from {{ ref('int_models') }}
),

{% if is_incremental() -%}
touched as (
    select distinct model, problem_id, arm
    from graded
    where graded_in_build = {{ this_build() }}
),

responses as (
    select graded.*
    from graded
    inner join touched
        on graded.model = touched.model and graded.problem_id = touched.problem_id and graded.arm = touched.arm
    where graded.is_answered
),
{%- else %}
    responses as (
        select * from graded
        where is_answered
    ),
{%- endif %}

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
),

instances as (
    select * from counted
    {%- if is_incremental() %}
    union all
    -- an instance counted before whose responses are no longer answered: n = 0 removes it
    select touched.model, touched.problem_id, null, null, touched.arm, 0, 0, 0, 0
    from touched
    where not exists (
        select 1 from counted
        where counted.model = touched.model and counted.problem_id = touched.problem_id and counted.arm = touched.arm
    )
    {%- endif %}
)

select
    instances.model,
    models.lab,
    instances.problem_id,
    instances.kind,
    instances.digit,
    instances.arm,
    instances.n,
    instances.n_correct,
    cast(instances.n_correct as double) / nullif(instances.n, 0) as accuracy,
    instances.n_reported,
    instances.n_correct_reported
from instances
inner join models on instances.model = models.model
