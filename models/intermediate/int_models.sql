-- depends_on: {{ ref('stg_shards') }}
-- One row per model seen in responses or metrics, with its lab: the registry's, else the provider prefix
-- of the id ("mistralai/codestral-2508" → "mistralai"), else 'unregistered'. Every mart takes a model's lab
-- from here. The models are read from the stored attempts (every response has one), not from
-- graded_responses, so the marts that need a lab do not wait for the grading; a build that loads new
-- shards (stg_shards) builds this again.
with seen as (
    select distinct model from {{ ref('stg_responses') }}
    union
    select distinct model from {{ ref('stg_metrics') }}
),

registry as (
    select * from {{ ref('model_registry') }}
)

select
    seen.model,
    registry.display_name,
    coalesce(
        registry.lab,
        case when seen.model like '%/%' then split_part(seen.model, '/', 1) else 'unregistered' end
    ) as lab,
    registry.category,
    registry.model is not null as is_registered
from seen
left join registry on seen.model = registry.model
where seen.model is not null
