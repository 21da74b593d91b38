-- One verdict per response: correct, wrong, parse_error, not_run or api_error, with its reason.
-- Comparison kinds are regraded here against the problem's gold (recomputed from the instance), not
-- the gold stored with the response; kinds with many right answers use the verifier's stored verdict.
with responses as (
    select * from {{ ref('stg_responses') }}
),

problems as (
    select * from {{ ref('stg_problems') }}
),

kind_families as (
    select * from {{ ref('kind_families') }}
),

answered as (
    select
        r.*,
        p.gold_answer as problem_gold,
        coalesce(k.needs_verifier, false) as needs_verifier,
        coalesce(
            r.parsed_answer,
            -- shards written without a parsed answer (older versions, other tools): read the JSON answer
            case when r.parse_error is null then
                nullif(replace(regexp_extract(r.response_text, '["'']answer["'']\s*:\s*["'']?\s*(-?[0-9][0-9,]*)', 1, 'i'), ',', ''), '')
            end
        ) as answer
    from responses as r
    left join problems as p using (problem_id)
    left join kind_families as k on k.kind = r.kind
),

final as (
    select
        response_id, problem_id, run_id, source, model, kind, digit, arm, seed, sample,
        error, error_class, latency_ms, prompt_tokens, completion_tokens, cost,
        answer,
        coalesce(problem_gold, gold_answer) as gold,
        gold_answer as source_gold,
        reported_correct,
        case
            when error is not null then 'api_error'
            -- imports whose gold the warehouse cannot recompute keep the source's verdict (ingest/importers/regrade.py)
            when verdict_reason = 'source_verdict_only' then verdict
            when needs_verifier then coalesce(verdict, 'parse_error')
            when answer is null then 'parse_error'
            when answer = coalesce(problem_gold, gold_answer) then 'correct'
            else 'wrong'
        end as verdict,
        case
            when error is not null then coalesce(error_class, 'api_error')
            when verdict_reason = 'source_verdict_only' then verdict_reason
            when needs_verifier then coalesce(verdict_reason, 'no verifier verdict')
            when answer is null then coalesce(parse_error, verdict_reason, 'no answer found')
            when answer = coalesce(problem_gold, gold_answer) then 'ok'
            else 'wrong_value'
        end as verdict_reason,
        parse_error,
        exec_status, exec_limit
    from answered
)

select *, verdict = 'correct' as is_correct, error is null as is_answered
from final
