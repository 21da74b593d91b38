-- One row per model × metric loaded from outside; lab and category from the file, else the registry.
with metrics as (
    select * from {{ ref('stg_metrics') }}
),

registry as (
    select * from {{ ref('model_registry') }}
)

select
    m.model,
    coalesce(m.lab, r.lab) as lab,
    coalesce(m.category, r.category) as category,
    coalesce(m.is_flagship, case when coalesce(m.category, r.category) = 'flagship' then 1 else 0 end) as is_flagship,
    m.metric,
    m.value,
    m.model_as_given,
    r.model is not null as is_registered,
    m.source_file
from metrics as m
left join registry as r using (model)
