-- One row per model × metric loaded from outside; lab and category from the file, else the registry (the
-- lab of an unregistered model by int_models' rule).
with metrics as (
    select * from {{ ref('stg_metrics') }}
),

models as (
    select * from {{ ref('int_models') }}
)

select
    metrics.model,
    coalesce(metrics.lab, models.lab) as lab,
    coalesce(metrics.category, models.category) as category,
    coalesce(
        metrics.is_flagship,
        case when coalesce(metrics.category, models.category) = 'flagship' then 1 else 0 end
    ) as is_flagship,
    metrics.metric,
    metrics.value,
    metrics.model_as_given,
    models.display_name,
    models.is_registered,
    metrics.source_file
from metrics
inner join models on metrics.model = models.model
