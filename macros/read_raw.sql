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
      cast("{{ name }}" as {{ type }}) as "{{ name }}"{{ "," if not loop.last or pointers }}
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
      {% if name in present %}cast("{{ name }}" as {{ type }}){% else %}cast(null as {{ type }}){% endif %} as "{{ name }}"{{ "," if not loop.last or pointers }}
    {%- endfor %}
    {%- if pointers %}
      hash(filename) as shard_id, file_row_number as shard_row
    {%- endif %}
    from read_parquet({{ parquet_list(targets) }}, union_by_name = true, hive_partitioning = false
                      {%- if pointers %}, filename = true, file_row_number = true{% endif %})
  {%- else %}
    select
    {%- for name, type in columns %}
      cast(null as {{ type }}) as "{{ name }}"{{ "," if not loop.last or pointers }}
    {%- endfor %}
    {%- if pointers %}
      null::ubigint as shard_id, null::bigint as shard_row
    {%- endif %}
    where false
  {%- endif %}
  {%- endif %}
{% endmacro %}


{#- The glob of a raw folder or declared source; none for a unit test's fixture. -#}
{% macro raw_glob(location) -%}
  {%- if location is string -%}
    {{ return(env_var('EVALHOUSE_DATA', 'data') ~ '/raw/' ~ location ~ '/**/*.parquet') }}
  {%- elif location.external -%}
    {{ return(location.external.strip("'")) }}
  {%- else -%}
    {{ return(none) }}
  {%- endif -%}
{%- endmacro %}


{#- Column names present in any of the shards (empty when there are none). Reads footers only. -#}
{% macro raw_columns(targets) -%}
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


{#- A DuckDB list literal of file names or globs. -#}
{% macro parquet_list(targets) -%}
  [{% for t in targets %}'{{ t | replace("'", "''") }}'{{ "," if not loop.last }}{% endfor %}]
{%- endmacro %}


{#- A hash of the files under a raw folder: names, sizes and modification seconds, one line each, sorted.
    evalhouse.build_plan.folder_fingerprint computes the same in Python to tell whether a folder changed. -#}
{% macro folder_fingerprint(location) -%}
  (select md5(coalesce(string_agg(filename || '|' || size || '|' || floor(epoch(last_modified))::bigint, chr(10)
                                   order by filename), ''))
   from read_blob('{{ raw_glob(location) }}'))
{%- endmacro %}
