{{ config(
    materialized=incremental_on_duckdb(),
    unique_key=['model', 'problem_id', 'seed', 'sample'],
    incremental_strategy='delete+insert',
    on_schema_change='fail'
) }}
-- One row per instance asked of a model, (model, problem_id, seed, sample), with how each arm went. The
-- marts that count per arm or compare arms on the same instance (accuracy, coverage, code − NL) read this
-- table, a quarter the size of graded_responses, instead of each scanning every response.
-- Incremental: only the instances with a response written by this build (its new shards) or regraded
-- (their problem's gold changed) are recomputed.
-- depends_on: {{ ref('stg_shards') }}
-- depends_on: {{ ref('stg_problems') }}
-- depends_on: {{ ref('kind_families') }}
{%- if is_incremental() %}
  {%- set regrade = problems_to_regrade('(' ~ grading_inputs() ~ ')', 'graded_problems') %}
{%- endif %}

with responses as (
    select model, problem_id, seed, sample, kind, digit, arm, is_answered, is_correct, reported_correct, shard_id
    from {{ ref('graded_responses') }}
),

{% if is_incremental() %}
touched as (
    select distinct model, problem_id, seed, sample
    from responses
    where shard_id in (select shard_id from {{ ref('stg_shards') }} where invocation_id = '{{ invocation_id }}')
       {{- or_regraded(regrade) }}
),

instances as (
    select * from responses semi join touched using (model, problem_id, seed, sample)
)
{% else %}
instances as (
    select * from responses
)
{% endif %}

select
    model, problem_id, seed, sample,
    -- a problem has one kind and one digit
    min(kind) as kind,
    min(digit) as digit,
    count(*) as n_responses,
    count(*) filter (where not is_answered) as n_unanswered,
    {%- for arm in arm_codes() %}
    count(*) filter (where arm = '{{ arm }}' and is_answered) as {{ arm }}_answered,
    count(*) filter (where arm = '{{ arm }}' and is_correct) as {{ arm }}_correct,
    count(*) filter (where arm = '{{ arm }}' and is_answered and reported_correct is not null) as {{ arm }}_reported,
    count(*) filter (where arm = '{{ arm }}' and is_answered and reported_correct) as {{ arm }}_correct_reported
    {{- "," if not loop.last }}
    {%- endfor %}
from instances
group by model, problem_id, seed, sample
