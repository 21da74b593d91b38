-- One row per harness sample score: run × model × task × split × variant × sample × epoch × scorer ×
-- filter × perturbation × metric. A log imported from two places (two copies of one file) is one run:
-- the latest import of each row is kept.
with source as (
    select * from {{ shards(source('raw', 'benchmark_samples')) }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by
                source, run_id, model, task, coalesce(split, ''), coalesce(variant, ''), sample_id, epoch,
                coalesce(scorer, ''), coalesce(filter, ''), coalesce(perturbation, ''), coalesce(metric, '')
            order by imported_at desc nulls last, source_file desc nulls last, source_line asc nulls last
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
    sample_id,
    epoch,
    scorer,
    filter,
    perturbation,
    metric,
    -- the score and what it scored
    value,
    value_text,
    answer,
    target,
    input,
    output,
    input_tokens,
    output_tokens,
    total_tokens,
    error,
    -- where it came from
    source_file,
    source_line,
    source_member,
    created_at,
    imported_at
from ranked
where import_rank = 1
