{{ config(materialized='view') }}
-- One row per model × task × instance × epoch with its score, for every harness's instances and
-- evalhouse's own: run × model × task × variant × split × scorer × filter × perturbation × metric ×
-- instance × epoch. Binary metrics score 0 or 1, so the paired tests and the GLMM compare models on the
-- same items (model A against model B on the same arc_easy instances). A view: harness rows are
-- staging's, evalhouse's are marts.acc_model_arm_instance's (one row per instance, its replicates pooled:
-- the instance is the unit), so nothing is stored twice.
with harness as (
    select
        source,
        run_id,
        model,
        task,
        variant,
        split,
        scorer,
        filter,
        perturbation,
        metric,
        sample_id as instance_id,
        epoch,
        value as score,
        1 as n_replicates,
        value_text,
        answer,
        target,
        input,
        output,
        input_tokens,
        output_tokens,
        error
    from {{ ref('stg_benchmark_samples') }}
    where value is not null
),

own as (
    select
        'evalhouse' as source,
        'evalhouse' as run_id,
        instances.model,
        instances.kind as task,
        instances.arm as variant,
        cast(null as string) as split,
        'evalhouse' as scorer,
        cast(null as string) as filter,
        cast(null as string) as perturbation,
        'accuracy' as metric,
        instances.problem_id as instance_id,
        1 as epoch,
        instances.accuracy as score,
        instances.n as n_replicates,
        cast(null as string) as value_text,
        cast(null as string) as answer,
        problems.gold_answer as target,
        problems.question as input,
        cast(null as string) as output,
        cast(null as bigint) as input_tokens,
        cast(null as bigint) as output_tokens,
        cast(null as string) as error
    from {{ ref('acc_model_arm_instance') }} as instances
    left join {{ ref('stg_problems') }} as problems on instances.problem_id = problems.problem_id
)

select * from harness
union all
select * from own
