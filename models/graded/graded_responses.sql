{{ config(
    materialized='incremental',
    unique_key='response_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook={
        "sql": "{{ delete_losing_attempts(this) if not is_incremental() }}",
        "transaction": false
    }
) }}
-- One verdict per response: correct, wrong, parse_error, not_run or api_error, with its reason.
-- Comparison kinds are regraded here against the problem's gold (recomputed from the instance), not
-- the gold stored with the response; kinds with many right answers use the verifier's stored verdict.
--
-- A full build grades every stored attempt in one pass over the shards, then deletes the attempts that
-- lost (post-hook): the same rows as grading staging.stg_responses, at a third of the reads.
-- Incremental: a build reads only the shards it has not loaded yet (staging.stg_shards), lets each of
-- their responses contest the stored one with the same rule as staging (a success beats an error, the
-- latest attempt wins), and regrades stored responses whose problem's gold changed. The result is the
-- same as a full rebuild.
-- depends_on: {{ ref('stg_shards') }}
{%- if is_incremental() %}
  {%- set new_shards = shards_to_load(ref('stg_shards')) %}
  {%- set regrade = problems_to_regrade('(' ~ grading_inputs() ~ ')', 'graded_problems') %}
{%- endif %}

with problems as (
    {{ grading_inputs() }}
),

kind_families as (
    select * from {{ ref('kind_families') }}
),

{% if is_incremental() %}
batch as materialized (
  {%- if new_shards | length > 0 %}
    {{ staged_responses('(' ~ response_attempts(source('raw', 'responses'), files=new_shards) ~ ')') }}
  {%- else %}
    select * from ({{ staged_columns(ref('stg_response_attempts')) }}) where false
  {%- endif %}
),

stored as materialized (
    -- the graded rows, under staging's column names, for the responses the batch contests or regrades
    select
        response_id, problem_id, run_id, source, model, kind, digit, arm, seed, sample,
        error, error_class, latency_ms, prompt_tokens, completion_tokens, cost, attempt, created_at,
        answer as parsed_answer, parse_error,
        source_gold as gold_answer, reported_correct, source_verdict as verdict, source_verdict_reason as verdict_reason,
        exec_status, exec_limit, shard_id, shard_row
    from {{ this }}
    where response_id in (select response_id from batch)
    {%- if regrade is none %}
       or true
    {%- elif regrade | length > 0 %}
       or problem_id in (select unnest({{ parquet_list(regrade) }}))
    {%- endif %}
),

contested as (
    select *
    from (
        select * from batch
        union all by name
        select * from stored where response_id in (select response_id from batch)
    )
    qualify row_number() over (partition by response_id order by {{ attempt_order() }}) = 1
),

responses as (
    -- the batch's winners (a stored winner comes back unchanged), then stored rows to regrade
    select *
    from contested
    union all by name
    select * from stored where response_id not in (select response_id from batch)
),
{% else %}
responses as (
    {{ staged_columns(ref('stg_response_attempts')) }}
),
{% endif %}

answered as (
    select
        r.*,
        p.gold as problem_gold,
        coalesce(p.needs_verifier, k.needs_verifier, false) as needs_verifier,
        coalesce(r.parsed_answer, r.extracted_answer) as answer
    from responses as r
    left join problems as p using (problem_id)
    left join kind_families as k on k.kind = r.kind
),

graded as (
    select
        *,
        coalesce(problem_gold, gold_answer) as gold,
        case
            when error is not null then 'api_error'
            when verdict = 'not_run' or exec_status = 'not_run' then 'not_run'
            -- imports whose gold the warehouse cannot recompute keep the source's verdict (ingest/importers/regrade.py)
            when verdict_reason = 'source_verdict_only' then verdict
            when needs_verifier then coalesce(verdict, 'parse_error')
            when answer is null then 'parse_error'
            when answer = coalesce(problem_gold, gold_answer) then 'correct'
            else 'wrong'
        end as graded_verdict,
        case
            when error is not null then coalesce(error_class, 'api_error')
            when verdict = 'not_run' or exec_status = 'not_run' then coalesce(verdict_reason, 'not_run')
            when verdict_reason = 'source_verdict_only' then verdict_reason
            when needs_verifier then coalesce(verdict_reason, 'no verifier verdict')
            when answer is null then coalesce(parse_error, verdict_reason, 'no answer found')
            when answer = coalesce(problem_gold, gold_answer) then 'ok'
            else 'wrong_value'
        end as graded_verdict_reason
    from answered
)

select
    -- keys
    response_id, problem_id, run_id, source,
    -- what was asked
    model, kind, digit, arm, seed, sample,
    -- how the request went (staging.stg_responses has the rest: status code, finish reason, …)
    error, error_class, latency_ms, prompt_tokens, completion_tokens, cost, attempt, created_at,
    -- the verdict
    answer, gold,
    graded_verdict as verdict,
    graded_verdict_reason as verdict_reason,
    graded_verdict = 'correct' as is_correct,
    graded_verdict not in ('api_error', 'not_run') as is_answered,
    needs_verifier,
    -- what it was graded from, and what the source said
    parse_error,
    gold_answer as source_gold, reported_correct,
    verdict as source_verdict, verdict_reason as source_verdict_reason,
    exec_status, exec_limit,
    -- where the row lives
    shard_id, shard_row
from graded
