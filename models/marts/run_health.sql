-- One row per model × arm: how collection went. Requests stored, errors by class, parse errors,
-- latency percentiles, tokens and cost. Error rates are over every stored response of the cell.
with responses as (
    select * from {{ ref('graded_responses') }}
),

measured as (
    select
        model,
        arm,
        count(*) as n_total,
        count(*) filter (where is_answered) as n_answered,
        count(*) filter (where verdict = 'api_error') as n_errors,
        count(*) filter (where verdict = 'not_run') as n_not_run,
        count(*) filter (where verdict = 'api_error' and error_class = 'rate_limited') as n_rate_limited,
        count(*) filter (where verdict = 'api_error' and error_class = 'server_error') as n_server_error,
        count(*) filter (where verdict = 'api_error' and error_class = 'timeout') as n_timeout,
        count(*) filter (where verdict = 'api_error' and error_class = 'connection') as n_connection,
        count(*) filter (where verdict = 'api_error' and error_class = 'malformed_body') as n_malformed_body,
        count(*) filter (where verdict = 'api_error' and error_class in ('client_error', 'provider_error')) as n_client_error,
        count(*) filter (where verdict = 'api_error' and coalesce(error_class, '') not in (
            'rate_limited', 'server_error', 'timeout', 'connection', 'malformed_body', 'client_error', 'provider_error'
        )) as n_other_error,
        count(*) filter (where verdict = 'parse_error') as n_parse_error,
        percentile_cont(0.5) within group (order by latency_ms) as latency_p50_ms,
        percentile_cont(0.95) within group (order by latency_ms) as latency_p95_ms,
        percentile_cont(0.99) within group (order by latency_ms) as latency_p99_ms,
        -- sums in decimal, so the figures do not depend on the order rows are read in
        sum(cast(latency_ms as decimal(18, 3))) / count(latency_ms) as latency_mean_ms,
        sum(prompt_tokens) as prompt_tokens,
        sum(completion_tokens) as completion_tokens,
        cast(sum(cast(cost as decimal(18, 9))) as double) as cost
    from responses
    group by model, arm
)

select
    model,
    arm,
    n_total,
    n_answered,
    n_errors,
    n_not_run,
    n_errors / n_total as error_rate,
    n_rate_limited,
    n_server_error,
    n_timeout,
    n_connection,
    n_malformed_body,
    n_client_error,
    n_other_error,
    n_rate_limited / n_total as rate_limited_rate,
    n_server_error / n_total as server_error_rate,
    n_timeout / n_total as timeout_rate,
    n_parse_error,
    n_parse_error / nullif(n_answered, 0) as parse_error_rate,
    latency_p50_ms,
    latency_p95_ms,
    latency_p99_ms,
    cast(latency_mean_ms as double) as latency_mean_ms,
    prompt_tokens,
    completion_tokens,
    completion_tokens / nullif(n_answered, 0) as completion_tokens_per_response,
    cost,
    cost / nullif(n_answered, 0) as cost_per_response
from measured
