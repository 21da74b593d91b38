-- Models with responses that the model registry (seeds/model_registry.csv) does not know.
-- A warning, not an error: their responses stay in every mart (lab shows as 'unregistered');
-- add them to the registry to give them a lab and category.
{{ config(severity='warn') }}

-- Read from the graded table, not staging's deduplicating view: the same responses, without a second
-- pass over the shards while graded_responses is being built.
with responses as (
    select model, source, count(*) as n_responses from {{ ref('graded_responses') }} group by model, source
),

registry as (
    select model from {{ ref('model_registry') }}
)

select r.model, r.source, r.n_responses
from responses as r
left join registry as g using (model)
where g.model is null
