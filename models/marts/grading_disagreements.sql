{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    unique_key='response_id',
    incremental_strategy='merge',
    merge_clauses={
        'when_matched': [
            {'condition': 'DBT_INTERNAL_SOURCE.reason is null', 'action': 'delete'},
            {'action': 'update', 'mode': 'by_name'},
        ],
        'when_not_matched': [
            {'condition': 'DBT_INTERNAL_SOURCE.reason is not null', 'action': 'insert', 'mode': 'by_name'},
        ],
    },
) }}
-- One row per imported response whose source verdict (reported_correct) differs from the warehouse's,
-- with the reason. Responses graded with the source's own verdict (source_verdict_only) cannot differ
-- and are not listed; marts.grading_audit counts them.
-- Incremental (DuckDB): the responses this build graded (again) are compared again; one that no longer
-- differs comes without a reason, and the merge removes it.
with graded as (
    select * from {{ ref('graded_responses') }}
    {%- if is_incremental() %}
    where graded_in_build = {{ this_build() }}
    {%- endif %}
),

imported as (
    select * from {{ ref('stg_imported_responses') }}
),

compared as (
    select
        g.response_id,
        g.source,
        g.run_id,
        g.model,
        g.kind,
        g.digit,
        g.arm,
        g.seed,
        g.problem_id,
        g.reported_correct,
        g.is_correct,
        g.verdict,
        g.verdict_reason,
        g.answer,
        i.raw_answer,
        g.gold,
        g.source_gold,
        g.parse_error,
        g.exec_status,
        i.source_status,
        i.source_parse_failed,
        i.source_file,
        i.source_line,
        g.source_gold is not null and g.gold is not null and g.source_gold <> g.gold as gold_differs,
        -- a float's rounding: the two golds agree to ~12 significant digits but not exactly
        abs(try_cast(g.source_gold as double) - try_cast(g.gold as double))
        <= 1e-12 * abs(try_cast(g.gold as double)) as golds_close,
        coalesce(
            g.is_answered and g.reported_correct is not null and g.verdict_reason <> 'source_verdict_only'
            and g.reported_correct <> g.is_correct,
            false
        ) as differs
    from graded as g
    left join imported as i on g.shard_id = i.shard_id and g.shard_row = i.shard_row
),

final as (
    select
        *,
        case
            when not differs then null
            when gold_differs and (answer = gold or answer = source_gold)
                then
                    case when golds_close then 'lost_precision' else 'wrong_gold' end
            when verdict = 'parse_error' and parse_error = 'empty_response' then 'answer_missing'
            when verdict = 'parse_error' then 'unparseable_answer'
            when is_correct and source_parse_failed then 'source_parse_failure'
            when is_correct and arm = 'code' and source_status like 'type_check_failed%' then 'source_type_check'
            when is_correct and not coalesce(raw_answer = answer, raw_answer is null and answer is null) then 'answer_format'
            else 'other'
        end as reason
    from compared
)

select
    response_id,
    source,
    run_id,
    model,
    kind,
    digit,
    arm,
    seed,
    problem_id,
    reported_correct,
    is_correct,
    reason,
    answer,
    raw_answer,
    gold,
    source_gold,
    parse_error,
    exec_status,
    source_status,
    source_file,
    source_line
from final
{%- if not is_incremental() %}
    where differs
{%- endif %}
