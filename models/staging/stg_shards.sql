{{ config(materialized='incremental', unique_key='shard_id', on_schema_change='fail') }}
-- One row per response shard the warehouse has loaded: the load log. A build lists the shard files, adds
-- the ones it has not seen, and refuses to go on when a loaded shard changed or vanished (its rows may
-- have been replaced): only a full rebuild can then give the right answer.
{%- set glob = raw_glob(source('raw', 'responses')) %}
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
    hash(file) as shard_id,
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
    null::ubigint as shard_id, null::varchar as file, null::bigint as size_bytes, null::timestamptz as modified_at,
    null::bigint as n_rows, null::varchar[] as columns, null::varchar as invocation_id, null::timestamptz as loaded_at
where false
{% endif %}
