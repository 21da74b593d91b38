-- One row per score a harness reported: run × model × task × split × variant × scorer × filter ×
-- perturbation × metric; the latest import of each is kept.
with source as (
    select * from {{ shards(source('raw', 'benchmark_scores')) }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by
                source, run_id, model, task, coalesce(split, ''), coalesce(variant, ''), coalesce(scorer, ''),
                coalesce(filter, ''), coalesce(perturbation, ''), metric
            order by imported_at desc nulls last, source_file desc nulls last
        ) as import_rank
    from source
)

select
    -- keys
    source,
    run_id,
    model,
    model_as_given,
    task,
    split,
    variant,
    scorer,
    filter,
    perturbation,
    metric,
    -- the score as reported
    value,
    stderr,
    n_samples,
    harness_version,
    -- where it came from
    source_file,
    created_at,
    imported_at
from ranked
where import_rank = 1
