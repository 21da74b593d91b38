{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    unique_key='response_id',
    incremental_strategy='delete+insert'
) }}
-- depends_on: {{ ref('stg_shards') }}
-- One verdict per response: correct, wrong, parse_error, not_run or api_error, with its reason. The
-- winning attempt (int_responses_latest) is graded against its problem's gold (recomputed from the
-- instance), not the gold the source stored; kinds with many right answers take the verifier's verdict.
-- The answer is the one read when the row was stored, or the one `evalhouse regrade` read again.
-- Incremental (DuckDB): responses whose winner this build's shards contested, responses to problems whose
-- gold or verifier flag changed, and responses read again are graded (again); the rest stay as they are.
with winners as (
    select * from {{ ref('int_responses_latest') }}
),

attempts as (
    select * from {{ ref('stg_responses') }}
),

reread as (
    select * from {{ ref('stg_answers') }}
),

kind_families as (
    select * from {{ ref('kind_families') }}
),

problems as (
    select
        stg_problems.problem_id,
        stg_problems.gold_answer as problem_gold,
        kind_families.needs_verifier
    from {{ ref('stg_problems') }} as stg_problems
    left join kind_families on stg_problems.kind = kind_families.kind
),

{% if is_incremental() -%}
contested as (
    -- read from staging, not through `attempts`: a CTE read twice is materialised, every column of every shard
    select response_id from {{ ref('stg_responses') }}
    where shard_file in (select file from {{ ref('stg_shards') }} where invocation_id = '{{ invocation_id }}')
),

changed_problems as (
    select stored.problem_id
    from (select distinct problem_id, problem_gold, needs_verifier from {{ this }}) as stored
    left join problems on stored.problem_id = problems.problem_id
    where stored.problem_gold is distinct from problems.problem_gold
        or stored.needs_verifier is distinct from coalesce(problems.needs_verifier, stored.needs_verifier)
),

read_again as (
    select stored.response_id
    from {{ this }} as stored
    inner join reread on stored.shard_id = reread.shard_id and stored.shard_row = reread.shard_row
    where stored.extractor_version is distinct from reread.extractor_version
),

to_grade as (
    select * from winners
    where response_id in (select response_id from contested)
        or response_id in (select response_id from read_again)
        or response_id in (
            select response_id from {{ this }} where problem_id in (select problem_id from changed_problems)
        )
),
{%- else -%}
    to_grade as (
        select * from winners
    ),
{%- endif %}

responses as (
    select attempts.*
    from attempts
    -- the pointer's two numbers, not the file's path: hashing ten million paths took twice as long
    inner join to_grade on attempts.shard_id = to_grade.shard_id and attempts.shard_row = to_grade.shard_row
    {%- if is_incremental() %}
    -- DuckDB then opens only the shards that hold a row to grade: the list of their files is pushed into
    -- the scan (a list with an entry per row to grade would be too long, and every shard would be opened)
    where attempts.shard_file in (
        select file from {{ ref('stg_shards') }} where shard_id in (select to_grade.shard_id from to_grade)
    )
    {%- endif %}
),

answered as (
    select
        responses.*,
        problems.problem_gold,
        coalesce(problems.needs_verifier, kind_families.needs_verifier, false) as needs_verifier,
        -- a row read again takes what regrade read; the verifier's verdict only where it gave one
        case when reread.shard_id is null then responses.parsed_answer else reread.parsed_answer end as answer,
        case when reread.shard_id is null then responses.parse_error else reread.parse_error end as answer_error,
        coalesce(reread.extractor_version, responses.extractor_version) as answer_extractor,
        coalesce(reread.verdict, responses.verdict) as stored_verdict,
        coalesce(reread.verdict_reason, responses.verdict_reason) as stored_verdict_reason
    from responses
    left join problems on responses.problem_id = problems.problem_id
    left join kind_families on responses.kind = kind_families.kind
    left join reread on responses.shard_id = reread.shard_id and responses.shard_row = reread.shard_row
),

graded as (
    select
        *,
        coalesce(problem_gold, gold_answer) as gold,
        case
            when error is not null then 'api_error'
            when stored_verdict = 'not_run' or exec_status = 'not_run' then 'not_run'
            -- imports whose gold the warehouse cannot recompute keep the source's verdict (ingest/importers/regrade.py)
            when stored_verdict_reason = 'source_verdict_only' then stored_verdict
            when needs_verifier then coalesce(stored_verdict, 'parse_error')
            when answer is null then 'parse_error'
            when answer = coalesce(problem_gold, gold_answer) then 'correct'
            else 'wrong'
        end as graded_verdict,
        case
            when error is not null then coalesce(error_class, 'api_error')
            when stored_verdict = 'not_run' or exec_status = 'not_run' then coalesce(stored_verdict_reason, 'not_run')
            when stored_verdict_reason = 'source_verdict_only' then stored_verdict_reason
            when needs_verifier then coalesce(stored_verdict_reason, 'no verifier verdict')
            when answer is null then coalesce(answer_error, stored_verdict_reason, 'not_read: run `evalhouse regrade`')
            when answer = coalesce(problem_gold, gold_answer) then 'ok'
            else 'wrong_value'
        end as graded_verdict_reason
    from answered
)

select
    -- keys
    response_id,
    problem_id,
    run_id,
    source,
    -- what was asked
    model,
    kind,
    digit,
    arm,
    seed,
    sample,
    -- how the request went (staging.stg_responses has the rest: status code, finish reason, attempts, …)
    error,
    error_class,
    latency_ms,
    prompt_tokens,
    completion_tokens,
    cost,
    -- the verdict
    answer,
    gold,
    graded_verdict as verdict,
    graded_verdict_reason as verdict_reason,
    graded_verdict = 'correct' as is_correct,
    graded_verdict not in ('api_error', 'not_run') as is_answered,
    -- what it was graded from, and what the source said
    answer_error as parse_error,
    answer_extractor as extractor_version,
    problem_gold,
    needs_verifier,
    gold_answer as source_gold,
    reported_correct,
    stored_verdict as source_verdict,
    exec_status,
    -- where the row lives
    shard_id,
    shard_row,
    -- the build that graded it (marts.builds.started_at): the marts built from it recount only its rows
    {{ this_build() }} as graded_in_build
from graded
