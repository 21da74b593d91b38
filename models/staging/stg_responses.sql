-- One row per response_id: the raw shards typed and deduplicated.
-- A success beats an error; among equals, the latest attempt wins.
with source as (
    {{ read_raw('responses', [
        ('response_id', 'varchar'), ('run_id', 'varchar'), ('source', 'varchar'), ('model', 'varchar'),
        ('problem_id', 'varchar'), ('kind', 'varchar'), ('digit', 'integer'), ('arm', 'varchar'),
        ('seed', 'integer'), ('sample', 'integer'), ('prompt', 'varchar'), ('response_text', 'varchar'),
        ('gold_answer', 'varchar'), ('reported_correct', 'boolean'), ('error', 'varchar'),
        ('error_class', 'varchar'), ('status_code', 'integer'), ('latency_ms', 'double'),
        ('prompt_tokens', 'bigint'), ('completion_tokens', 'bigint'), ('cost', 'double'),
        ('finish_reason', 'varchar'), ('provider_model', 'varchar'), ('prompt_version', 'varchar'),
        ('attempt', 'integer'), ('created_at', 'timestamptz'),
        ('parsed_answer', 'varchar'), ('parse_error', 'varchar'), ('verdict', 'varchar'), ('verdict_reason', 'varchar'),
        ('exec_status', 'varchar'), ('exec_limit', 'varchar')
    ]) }}
),

deduplicated as (
    select *
    from source
    qualify row_number() over (
        partition by response_id
        order by (error is null) desc, created_at desc nulls last, attempt desc nulls last
    ) = 1
)

select
    -- keys
    response_id, problem_id, run_id, source,
    -- what was asked
    model, kind, coalesce(digit, 0) as digit, arm, coalesce(seed, 0) as seed, coalesce(sample, 0) as sample,
    prompt, prompt_version,
    -- what came back
    response_text, finish_reason, provider_model,
    error, error_class, status_code,
    latency_ms, prompt_tokens, completion_tokens, cost, attempt, created_at,
    -- the source's grading (imports) and the collector's reading of the answer
    gold_answer, reported_correct, parsed_answer, parse_error, verdict, verdict_reason,
    exec_status, exec_limit
from deduplicated
