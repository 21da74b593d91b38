{#- Incremental builds, on DuckDB. Spark rebuilds its tables in full (a cluster has the cores for it, and
    its file-based tables have no cheap delete by key): models that grow incrementally on DuckDB are plain
    tables there.

    What an incremental build of graded_responses has to (re)grade: shards_to_load and problems_to_regrade
    run at compile time, against the warehouse being built, and return plain lists that the model inlines. -#}

{#- The materialization of a model that loads only new data on DuckDB. -#}
{% macro incremental_on_duckdb() -%}
  {{ return('incremental' if target.type == 'duckdb' else 'table') }}
{%- endmacro %}

{#- Shards listed in staging.stg_shards with no row in this model yet: the new ones, plus any whose rows
    all lost to other attempts (re-reading those changes nothing). -#}
{% macro shards_to_load(shards) %}
  {%- if not execute -%}{{ return([]) }}{%- endif -%}
  {%- set query -%}
    select file from {{ shards }}
    where shard_id not in (select distinct shard_id from {{ this }})
    order by file
  {%- endset -%}
  {{ return(run_query(query).columns[0].values() | list) }}
{% endmacro %}


{#- Problems whose gold or verifier flag differ from those the last build graded with (snapshot
    graded.graded_problems), or that are new: responses to them are regraded. None means the snapshot
    is missing and everything must be regraded. -#}
{% macro problems_to_regrade(problems, snapshot_name) %}
  {%- if not execute -%}{{ return([]) }}{%- endif -%}
  {%- set snapshot = adapter.get_relation(this.database, this.schema, snapshot_name) -%}
  {%- if snapshot is none -%}{{ return(none) }}{%- endif -%}
  {%- set query -%}
    select problem_id
    from {{ problems }} as p
    full join {{ snapshot }} as s using (problem_id)
    where p.problem_id is null or s.problem_id is null
       or p.gold is distinct from s.gold or p.needs_verifier is distinct from s.needs_verifier
    order by problem_id
  {%- endset -%}
  {{ return(run_query(query).columns[0].values() | list) }}
{% endmacro %}


{#- The filter's `or` clause that adds rows of the problems problems_to_regrade returned: every row
    when it returned none (no snapshot), no row when the list is empty. -#}
{% macro or_regraded(regrade) -%}
  {%- if regrade is none %}
       or true
  {%- elif regrade | length > 0 %}
       or problem_id in (select unnest({{ parquet_list(regrade) }}))
  {%- endif %}
{%- endmacro %}


{#- One row per problem: what grading needs from it (its gold, and whether a verifier judges its answers). -#}
{% macro grading_inputs() %}
    select p.problem_id, p.kind, p.gold_answer as gold, coalesce(k.needs_verifier, false) as needs_verifier
    from {{ ref('stg_problems') }} as p
    left join {{ ref('kind_families') }} as k using (kind)
{% endmacro %}


{#- The responses a full build of graded_responses grades, from every stored attempt. DuckDB grades every
    attempt in one pass and deletes the losing attempts afterwards (delete_losing_attempts, a post-hook);
    other engines keep the winner of each response_id first. -#}
{% macro responses_to_grade(attempts) %}
  {{ return(adapter.dispatch('responses_to_grade', 'evalhouse')(attempts)) }}
{% endmacro %}

{% macro duckdb__responses_to_grade(attempts) %}
    {{ staged_columns(attempts) }}
{% endmacro %}

{% macro default__responses_to_grade(attempts) %}
    {{ staged_responses(attempts) }}
{% endmacro %}


{#- The CTEs of an incremental build of graded_responses, ending with `responses`: the new shards'
    winners contest the stored rows with the same rule as staging, and stored responses whose problem's
    gold changed come back to be regraded (DuckDB SQL: only DuckDB builds incrementally). -#}
{% macro incremental_responses(new_shards, regrade) %}
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
       {{- or_regraded(regrade) }}
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
)
{% endmacro %}
