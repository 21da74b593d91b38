-- One row per model × arm: how collection went. Errors by class, latency percentiles, tokens and cost.
with responses as (
    select * from {{ ref('graded_responses') }}
)

select
    model, arm,
    count(*) as n_total,
    count_if(is_answered) as n_answered,
    count_if(not is_answered) as n_errors,
    count_if(not is_answered)::double / count(*) as error_rate,
    count_if(error_class = 'rate_limited') as n_rate_limited,
    count_if(error_class = 'server_error') as n_server_error,
    count_if(error_class = 'timeout') as n_timeout,
    count_if(error_class = 'connection') as n_connection,
    count_if(error_class = 'malformed_body') as n_malformed_body,
    count_if(error_class in ('client_error', 'provider_error')) as n_client_error,
    count_if(verdict = 'parse_error') as n_parse_error,
    quantile_cont(latency_ms, 0.5) as latency_p50_ms,
    quantile_cont(latency_ms, 0.95) as latency_p95_ms,
    quantile_cont(latency_ms, 0.99) as latency_p99_ms,
    sum(prompt_tokens) as prompt_tokens,
    sum(completion_tokens) as completion_tokens,
    sum(cost) as cost
from responses
group by all
