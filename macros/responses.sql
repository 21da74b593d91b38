{#- The shape of a stored response, and the two steps staging applies to it: reading the attempts (the
    answer read from the text where no parsed answer was stored), and keeping the winning attempt per
    response_id. They are macros because the incremental graded model applies exactly the same steps to
    the new shards alone. -#}

{#- Every column of a response shard except the long texts (prompt, response_text, exec_stderr), which
    stay in the shards and are read on demand (staging.stg_response_texts). -#}
{% macro response_columns() %}
  {{ return([
    ('response_id', 'varchar'), ('run_id', 'varchar'), ('source', 'varchar'), ('model', 'varchar'),
    ('problem_id', 'varchar'), ('kind', 'varchar'), ('digit', 'integer'), ('arm', 'varchar'),
    ('seed', 'integer'), ('sample', 'integer'),
    ('gold_answer', 'varchar'), ('reported_correct', 'boolean'),
    ('error', 'varchar'), ('error_class', 'varchar'), ('status_code', 'integer'),
    ('latency_ms', 'double'), ('prompt_tokens', 'bigint'), ('completion_tokens', 'bigint'), ('cost', 'double'),
    ('finish_reason', 'varchar'), ('provider_model', 'varchar'), ('prompt_version', 'varchar'),
    ('attempt', 'integer'), ('created_at', 'timestamptz'),
    ('parsed_answer', 'varchar'), ('parse_error', 'varchar'), ('verdict', 'varchar'), ('verdict_reason', 'varchar'),
    ('exec_status', 'varchar'), ('exec_limit', 'varchar')
  ]) }}
{% endmacro %}


{#- A success beats an error; among equals the latest attempt wins; the shard pointer breaks exact ties,
    so a full build and an incremental one, on DuckDB or Spark, pick the same row (nulls placed
    explicitly: the engines' defaults differ). -#}
{% macro attempt_order() -%}
  (error is null) desc, created_at desc nulls last, attempt desc nulls last, shard_id desc, shard_row desc
{%- endmacro %}


{#- The JSON `answer` of a reply, read in SQL: an integer, commas allowed, quotes optional, the key in
    any case. Only for shards written without a parsed answer (older versions, other tools). Letter
    classes rather than the case-insensitive flag: the same matches for ASCII, at twice the speed. -#}
{% macro answer_in_text(text) -%}
  nullif(replace(regexp_extract({{ text }}, {{ string_literal('["\'][Aa][Nn][Ss][Ww][Ee][Rr]["\']\\s*:\\s*["\']?\\s*(-?[0-9][0-9,]*)') }}, 1), ',', ''), '')
{%- endmacro %}


{#- Every stored attempt, typed, with extracted_answer: the answer read from the text in SQL for rows
    that carry no parsed answer, parse error or API error (shards written by older versions or other
    tools). Two reads of the shards, no join: the second one's filter reaches the Parquet reader, which
    then skips the text of every row that has a parsed answer. A query that needs no text (the dedup's
    key scans) prunes the text and the regex from both. -#}
{% macro response_attempts(location, files=none) %}
{%- set glob = raw_glob(location) %}
{%- set present = raw_columns(files if files is not none else [glob]) if glob is not none else none %}
{%- set columns = response_columns() + [('response_text', 'varchar')] %}
{%- set kept = response_columns() | map(attribute=0) | list + ['shard_id', 'shard_row'] %}
select {{ kept | join(', ') }}, cast(null as {{ sql_type('varchar') }}) as extracted_answer
from (
    {{ read_raw(location, columns, files=files, pointers=true, present=present) }}
) as answered
where not (error is null and parsed_answer is null and parse_error is null)

union all

select {{ kept | join(', ') }}, {{ answer_in_text('response_text') }} as extracted_answer
from (
    {{ read_raw(location, columns, files=files, pointers=true, present=present) }}
) as unread
where error is null and parsed_answer is null and parse_error is null
{% endmacro %}


{#- The winning attempt of each response_id. Only contested ids (1% in practice) go through a window,
    over their keys alone; every other row streams through an anti-join. `attempts` is read three times
    rather than held in memory: the first two reads touch only the key columns. Contested ids are found
    by a hash of the id (cheaper to group by than the string); a collision only sends a few more rows
    through the window, which still partitions by the id itself. -#}
{% macro latest_attempts(attempts) %}
  {{ return(adapter.dispatch('latest_attempts', 'evalhouse')(attempts)) }}
{% endmacro %}

{% macro duckdb__latest_attempts(attempts) %}
with contested as (
    select hash(response_id) as id_hash
    from {{ attempts }}
    group by id_hash
    having count(*) > 1
),

losers as (
    select shard_id, shard_row
    from {{ attempts }}
    where hash(response_id) in (select id_hash from contested)
    qualify row_number() over (partition by response_id order by {{ attempt_order() }}) > 1
)

select *
from {{ attempts }}
anti join losers using (shard_id, shard_row)
{% endmacro %}

{#- Elsewhere one window over every attempt: the engine distributes it by response_id. -#}
{% macro default__latest_attempts(attempts) %}
{%- set columns = response_columns() | map(attribute=0) | list + ['shard_id', 'shard_row', 'extracted_answer'] %}
{{ first_per(attempts, columns, 'response_id', attempt_order()) }}
{% endmacro %}


{#- Staging's result for the given attempts: the winner per response_id, columns grouped and defaults
    applied. -#}
{% macro staged_responses(attempts) %}
with latest as (
    {{ latest_attempts(attempts) }}
)

{{ staged_columns('latest') }}
{% endmacro %}


{#- Staging's columns, grouped, with defaults (no digit, seed or sample means 0). -#}
{% macro staged_columns(relation) %}
select
    -- keys
    response_id, problem_id, run_id, source,
    -- what was asked
    model, kind, coalesce(digit, 0) as digit, arm, coalesce(seed, 0) as seed, coalesce(sample, 0) as sample,
    prompt_version,
    -- what came back
    error, error_class, status_code, finish_reason, provider_model,
    latency_ms, prompt_tokens, completion_tokens, cost, attempt, created_at,
    -- the answer: the collector's reading, else SQL's reading of the text
    parsed_answer, extracted_answer, parse_error,
    -- what the source recorded: the gold it used, its verdict (imports) or the verifier's (needs_verifier kinds)
    gold_answer, reported_correct, verdict, verdict_reason, exec_status, exec_limit,
    -- where the row lives
    shard_id, shard_row
from {{ relation }}
{% endmacro %}


{#- DuckDB: after a full build of a table holding every attempt, delete all but the winning attempt of each
    response_id (the same rule as latest_attempts). Cheaper than deduplicating before writing: the
    table's own response_id column is read instead of the shards' (twice), and only the 1% of rows that
    lost are touched. -#}
{% macro delete_losing_attempts(relation) %}
  {{ return(adapter.dispatch('delete_losing_attempts', 'evalhouse')(relation)) }}
{% endmacro %}

{% macro default__delete_losing_attempts(relation) %}{% endmacro %}

{% macro duckdb__delete_losing_attempts(relation) %}
delete from {{ relation }}
where rowid in (
    select rowid
    from {{ relation }}
    where hash(response_id) in (
        select hash(response_id) from {{ relation }} group by 1 having count(*) > 1
    )
    qualify row_number() over (partition by response_id order by {{ attempt_order() }}) > 1
)
{% endmacro %}


{#- The contract's four arms, in presentation order (the seed `arms` describes them). -#}
{% macro arm_codes() %}
  {{ return(['nl', 'sim', 'controlsim', 'code']) }}
{% endmacro %}
