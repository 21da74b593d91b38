{#- Read raw Parquet shards under the data folder, typed, with every expected column.

    `location` is a folder under `raw/` ('responses', 'responses/source=legacy-*') or a source declared in
    models/staging/__sources.yml. Three things a bare read_parquet cannot do: an empty folder gives an empty
    relation (not an error); a column no shard has yet reads as NULL (schema evolution: older shards that
    hold only the required columns stay valid input); and `files` narrows the read to given shards (an
    incremental build reads only the new ones). `pointers` adds where each row lives: shard_id (a hash of
    the file name) and shard_row, so text can be fetched later without carrying it through the build.
    A unit test's fixture (no external location) is read as it is. -#}
{% macro read_raw(location, columns, files=none, pointers=false, present=none) %}
  {%- set glob = raw_glob(location) -%}
  {%- if glob is none %}
    select
    {%- for name, type in columns %}
      cast({{ adapter.quote(name) }} as {{ sql_type(type) }}) as {{ adapter.quote(name) }}{{ "," if not loop.last or pointers }}
    {%- endfor %}
    {%- if pointers %}
      shard_id, shard_row
    {%- endif %}
    from {{ location }}
  {%- else -%}
  {%- set targets = files if files is not none else [glob] -%}
  {%- set present = present if present is not none else raw_columns(targets) -%}
  {%- if present | length > 0 %}
    select
    {%- for name, type in columns %}
      {% if name in present %}cast({{ adapter.quote(name) }} as {{ sql_type(type) }}){% else %}cast(null as {{ sql_type(type) }}){% endif %} as {{ adapter.quote(name) }}{{ "," if not loop.last or pointers }}
    {%- endfor %}
    {%- if pointers %}
      {{ shard_key(shard_file_column()) }} as shard_id, {{ shard_row_column() }} as shard_row
    {%- endif %}
    from {{ raw_relation(targets, pointers) }}
  {%- else %}
    select
    {%- for name, type in columns %}
      cast(null as {{ sql_type(type) }}) as {{ adapter.quote(name) }}{{ "," if not loop.last or pointers }}
    {%- endfor %}
    {%- if pointers %}
      cast(null as bigint) as shard_id, cast(null as bigint) as shard_row
    {%- endif %}
    from (select 1 as nothing) as none_yet
    where 1 = 0
  {%- endif %}
  {%- endif %}
{% endmacro %}


{#- The shard files (a list of globs or names) as a relation the engine reads itself. With `pointers`, the
    relation also gives each row's file name and row number in it (see shard_file_column). -#}
{% macro raw_relation(targets, pointers=false) -%}
  {{ return(adapter.dispatch('raw_relation', 'evalhouse')(targets, pointers)) }}
{%- endmacro %}

{% macro default__raw_relation(targets, pointers=false) -%}
  read_parquet({{ parquet_list(targets) }}, union_by_name = true, hive_partitioning = false
               {%- if pointers %}, filename = true, file_row_number = true{% endif %})
{%- endmacro %}

{#- Spark reads the files themselves: a glob of files (not folders) infers no partition columns, so the
    values stored in the files are the ones read, as on DuckDB. Spark's globs have no `**`: a braced list
    of depths (up to four) stands for it. Schemas are merged across files (spark.sql.parquet.mergeSchema, profile). -#}
{% macro spark__raw_relation(targets, pointers=false) -%}
  {%- if targets | length != 1 -%}
    {{ exceptions.raise_compiler_error("Spark reads one glob per relation, not " ~ targets | length) }}
  {%- endif -%}
  parquet.`{{ spark_glob(targets[0]) }}`
{%- endmacro %}

{% macro spark_glob(glob) -%}
  {{ return(glob | replace('/**/*', '/{*,*/*,*/*/*,*/*/*/*}')) }}
{%- endmacro %}

{% macro shard_file_column() -%}{{ return(adapter.dispatch('shard_file_column', 'evalhouse')()) }}{%- endmacro %}
{% macro default__shard_file_column() -%}{{ return('filename') }}{%- endmacro %}
{% macro spark__shard_file_column() -%}{{ return('_metadata.file_path') }}{%- endmacro %}

{% macro shard_row_column() -%}{{ return(adapter.dispatch('shard_row_column', 'evalhouse')()) }}{%- endmacro %}
{% macro default__shard_row_column() -%}{{ return('file_row_number') }}{%- endmacro %}
{% macro spark__shard_row_column() -%}{{ return('_metadata.row_index') }}{%- endmacro %}


{#- The glob of a raw folder or declared source; none for a unit test's fixture. -#}
{% macro raw_glob(location) -%}
  {%- if location is string -%}
    {{ return(env_var('EVALHOUSE_DATA', 'data') ~ '/raw/' ~ location ~ '/**/*.parquet') }}
  {%- elif location.external -%}
    {{ return(location.external.strip("'")) }}
  {%- else -%}
    {#- dbt-spark's relations do not carry the source's external location: look it up. -#}
    {%- for node in (graph.sources.values() if execute else []) -%}
      {%- if node.source_name == location.schema and node.name == location.identifier and node.meta.external_location -%}
        {{ return(node.meta.external_location) }}
      {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
  {%- endif -%}
{%- endmacro %}


{#- Column names present in any of the shards (empty when there are none). Reads footers only. -#}
{% macro raw_columns(targets) -%}
  {{ return(adapter.dispatch('raw_columns', 'evalhouse')(targets)) }}
{%- endmacro %}

{% macro default__raw_columns(targets) -%}
  {%- set present = [] -%}
  {%- if execute and targets | length > 0 -%}
    {%- set found = run_query("select count(*) from glob(" ~ parquet_list(targets) ~ ")").columns[0].values()[0] -%}
    {%- if found > 0 -%}
      {%- set described = run_query("describe select * from read_parquet(" ~ parquet_list(targets) ~ ", union_by_name = true)") -%}
      {%- for name in described.columns[0].values() -%}{%- do present.append(name) -%}{%- endfor -%}
    {%- endif -%}
  {%- endif -%}
  {{ return(present) }}
{%- endmacro %}

{#- Spark cannot ask whether a glob matches anything without failing when it does not, so `evalhouse
    build --target spark` lists the raw folders first and passes their columns in the variable
    `raw_columns` ({glob: [names]}). A plain `dbt build --target spark` without it asks Spark for the
    schema, which needs every raw folder to hold a file. -#}
{% macro spark__raw_columns(targets) -%}
  {%- set present = [] -%}
  {%- if execute -%}
    {%- set known = var('raw_columns', {}) -%}
    {%- for target in targets -%}
      {%- if target in known -%}
        {%- set names = known[target] -%}
      {%- else -%}
        {%- set names = run_query("describe select * from parquet.`" ~ spark_glob(target) ~ "`").columns[0].values() -%}
      {%- endif -%}
      {%- for name in names if name not in present -%}{%- do present.append(name) -%}{%- endfor -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(present) }}
{%- endmacro %}


{#- A DuckDB list literal of file names or globs. -#}
{% macro parquet_list(targets) -%}
  [{% for t in targets %}'{{ t | replace("'", "''") }}'{{ "," if not loop.last }}{% endfor %}]
{%- endmacro %}


{#- A hash of the files under a raw folder: names, sizes and modification seconds, one line each, sorted.
    evalhouse.build_plan.folder_fingerprint computes the same in Python to tell whether a folder changed. -#}
{% macro folder_fingerprint(location) -%}
  {{ return(adapter.dispatch('folder_fingerprint', 'evalhouse')(location)) }}
{%- endmacro %}

{% macro default__folder_fingerprint(location) -%}
  (select md5(coalesce(string_agg(filename || '|' || size || '|' || floor(epoch(last_modified))::bigint, chr(10)
                                   order by filename), ''))
   from read_blob('{{ raw_glob(location) }}'))
{%- endmacro %}

{#- Spark builds are always full: nothing compares folders with the last build. -#}
{% macro spark__folder_fingerprint(location) -%}
  cast(null as string)
{%- endmacro %}
