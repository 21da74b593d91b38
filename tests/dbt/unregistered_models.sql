-- Models with responses or metrics that the model registry (seeds/model_registry.csv) does not know.
-- A warning, not an error: they stay in every mart (their lab is the id's provider prefix, see
-- graded.int_models); add them to the registry to give them a lab and category.
{{ config(severity='warn') }}

select
    model,
    lab
from {{ ref('int_models') }}
where not is_registered
