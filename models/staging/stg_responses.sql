-- One row per stored attempt (a row of a response shard), typed, without the long texts (stg_response_texts
-- has them). response_id is not unique here: a retried request has one row per attempt, and
-- int_responses_latest keeps the winner. Columns a shard lacks (older versions, other tools) read as NULL.
with source as (
    select * from {{ shards(source('raw', 'responses')) }}
),

renamed as (
    select
        -- keys
        response_id,
        problem_id,
        run_id,
        source,
        -- what was asked
        model,
        kind,
        coalesce(digit, 0) as digit,
        arm,
        coalesce(seed, 0) as seed,
        coalesce(sample, 0) as sample,
        prompt_version,
        -- how the request went
        error,
        error_class,
        status_code,
        finish_reason,
        provider_model,
        latency_ms,
        prompt_tokens,
        completion_tokens,
        cost,
        attempt,
        created_at,
        -- what was read from the reply when it was stored (evalhouse regrade reads older rows again)
        parsed_answer,
        parse_error,
        extractor_version,
        -- what the source recorded: the gold it used, its verdict (imports) or the verifier's
        gold_answer,
        reported_correct,
        verdict,
        verdict_reason,
        exec_status,
        exec_limit,
        exec_isolation,
        -- where the row lives
        filename as shard_file,
        {{ shard_id('filename') }} as shard_id,
        file_row_number as shard_row
    from source
)

select * from renamed
