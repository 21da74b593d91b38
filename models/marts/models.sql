-- One row per model seen in responses or metrics: its lab (the registry's, else the id's provider prefix),
-- display name, category and whether it is a flagship. The model-level predictors the analyses join.
select
    model,
    lab,
    display_name,
    category,
    case when category = 'flagship' then 1 else 0 end as is_flagship,
    is_registered
from {{ ref('int_models') }}
