{#- The load log of response shards (staging.stg_shards): one row per shard file with its key, size,
    modification time, rows and columns. DuckDB reads file listings and footers only. -#}
{% macro shard_log(responses) %}
  {{ return(adapter.dispatch('shard_log', 'evalhouse')(responses)) }}
{% endmacro %}

{% macro duckdb__shard_log(responses) %}
{%- set glob = raw_glob(responses) %}
{%- set targets = [] %}
{%- if execute %}
  {%- if is_incremental() %}
    {%- set changed = run_query(
        "select k.file from " ~ this ~ " as k left join read_blob('" ~ glob ~ "') as l on l.filename = k.file"
        ~ " where l.filename is null or l.size <> k.size_bytes or l.last_modified <> k.modified_at order by k.file limit 1") %}
    {%- if changed.rows | length > 0 %}
      {{ exceptions.raise_compiler_error(
          "shard " ~ changed.columns[0].values()[0] ~ " changed or vanished since it was loaded; rebuild the"
          ~ " warehouse: `evalhouse build` does so by itself, a plain dbt run needs `dbt build --full-refresh`") }}
    {%- endif %}
    {%- set targets = run_query(
        "select filename from read_blob('" ~ glob ~ "') where filename not in (select file from " ~ this ~ ") order by 1"
        ).columns[0].values() | list %}
  {%- elif run_query("select count(*) from glob('" ~ glob ~ "')").columns[0].values()[0] > 0 %}
    {%- set targets = [glob] %}
  {%- endif %}
{%- endif %}

{% if targets | length > 0 %}
with listed as (
    select filename as file, size as size_bytes, last_modified as modified_at
    from read_blob({{ parquet_list(targets) }})
),

counted as (
    select file_name as file, num_rows as n_rows
    from parquet_file_metadata({{ parquet_list(targets) }})
),

described as (
    -- which columns each shard holds: a build adding shards with new columns rebuilds the staging views
    select file_name as file, list(name order by name) as columns
    from parquet_schema({{ parquet_list(targets) }})
    where name <> 'duckdb_schema' and num_children is null
    group by file_name
)

select
    {{ shard_key('file') }} as shard_id,
    file,
    size_bytes,
    modified_at,
    n_rows,
    columns,
    '{{ invocation_id }}' as invocation_id,
    '{{ run_started_at }}'::timestamptz as loaded_at
from listed
left join counted using (file)
left join described using (file)
{% else %}
select
    null::bigint as shard_id, null::varchar as file, null::bigint as size_bytes, null::timestamptz as modified_at,
    null::bigint as n_rows, null::varchar[] as columns, null::varchar as invocation_id, null::timestamptz as loaded_at
where false
{% endif %}
{% endmacro %}

{#- Spark has no file listing in SQL: the files' metadata columns, one group per file. -#}
{% macro spark__shard_log(responses) %}
{%- set present = raw_columns([raw_glob(responses)]) %}
{% if present | length > 0 %}
select
    {{ shard_key('file') }} as shard_id,
    file,
    size_bytes,
    modified_at,
    n_rows,
    cast(null as array<string>) as columns,
    '{{ invocation_id }}' as invocation_id,
    cast('{{ run_started_at }}' as timestamp) as loaded_at
from (
    select _metadata.file_path as file, _metadata.file_size as size_bytes,
           _metadata.file_modification_time as modified_at, count(*) as n_rows
    from {{ raw_relation([raw_glob(responses)], pointers=true) }}
    group by _metadata.file_path, _metadata.file_size, _metadata.file_modification_time
) as listed
{% else %}
select
    cast(null as bigint) as shard_id, cast(null as string) as file, cast(null as bigint) as size_bytes,
    cast(null as timestamp) as modified_at, cast(null as bigint) as n_rows, cast(null as array<string>) as columns,
    cast(null as string) as invocation_id, cast(null as timestamp) as loaded_at
from (select 1 as nothing) as none_yet
where 1 = 0
{% endif %}
{% endmacro %}
