{#- Read one folder of raw Parquet shards under the data folder, typed, with every expected column.

    Two things a bare read_parquet cannot do: an empty folder gives an empty relation (not an error),
    and a column no shard has yet reads as NULL (schema evolution: older shards stay valid input). -#}
{% macro read_raw(folder, columns) %}
  {%- set glob = env_var('EVALHOUSE_DATA', 'data') ~ '/raw/' ~ folder ~ '/**/*.parquet' -%}
  {%- set present = [] -%}
  {%- if execute -%}
    {%- set found = run_query("select count(*) from glob('" ~ glob ~ "')").columns[0].values()[0] -%}
    {%- if found > 0 -%}
      {%- set described = run_query("describe select * from read_parquet('" ~ glob ~ "', union_by_name = true, hive_partitioning = false)") -%}
      {%- for name in described.columns[0].values() -%}{%- do present.append(name) -%}{%- endfor -%}
    {%- endif -%}
  {%- endif -%}
  {%- if present | length > 0 %}
    select
    {%- for name, type in columns %}
      {% if name in present %}cast("{{ name }}" as {{ type }}){% else %}cast(null as {{ type }}){% endif %} as "{{ name }}"{{ "," if not loop.last }}
    {%- endfor %}
    from read_parquet('{{ glob }}', union_by_name = true, hive_partitioning = false)
  {%- else %}
    select
    {%- for name, type in columns %}
      cast(null as {{ type }}) as "{{ name }}"{{ "," if not loop.last }}
    {%- endfor %}
    where false
  {%- endif %}
{% endmacro %}
