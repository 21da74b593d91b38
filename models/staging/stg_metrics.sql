-- One row per (model, metric) loaded from outside, long form; a metric loaded twice keeps the latest load.
with source as (
    select * from {{ shards(source('raw', 'metrics')) }}
),

ranked as (
    select
        model,
        model_as_given,
        lab,
        category,
        is_flagship,
        metric,
        value,
        source_file,
        loaded_at,
        row_number() over (
            partition by model, metric
            order by
                loaded_at desc nulls last, source_file desc nulls last, value desc nulls last,
                model_as_given desc nulls last, lab desc nulls last, category desc nulls last,
                is_flagship desc nulls last
        ) as load_rank
    from source
)

select
    model,
    model_as_given,
    lab,
    category,
    is_flagship,
    metric,
    value,
    source_file,
    loaded_at
from ranked
where load_rank = 1
