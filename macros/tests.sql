{#- Generic data tests the project's YAML uses, and the scope of tests in incremental builds. -#}

{#- Every row satisfies the expression (an invariant such as `n_correct <= n`). -#}
{% test expression_is_true(model, expression) %}
select * from {{ model }} where not coalesce(({{ expression }}), false)
{% endtest %}


{#- Tests configured with `where: __this_build__` check the rows the current build wrote: all of them in
    a full build, the rows from this build's new shards in an incremental one. That is enough because an
    incremental build replaces rows by key (delete, then insert): if the rows it inserts pass, the table
    passes, and re-checking ten million untouched rows would cost more than the build itself. -#}
{% macro duckdb__get_where_subquery(relation) -%}
  {%- set where = config.get('where', '') -%}
  {%- if where == '__this_build__' -%}
    {%- set where = rows_of_this_build() -%}
  {%- endif -%}
  {%- if where -%}
    {{ return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') }}
  {%- else -%}
    {{ return(relation) }}
  {%- endif -%}
{%- endmacro %}


{#- A filter on shard_id selecting the rows loaded by this invocation; empty when that is every row. -#}
{% macro rows_of_this_build() -%}
  {%- set shards = adapter.get_relation(database=target.database, schema='staging', identifier='stg_shards') if execute else none -%}
  {%- if shards is not none -%}
    {%- set older = run_query("select count(*) from " ~ shards ~ " where invocation_id <> '" ~ invocation_id ~ "'").columns[0].values()[0] -%}
    {%- if older > 0 -%}
      {{ return("shard_id in (select shard_id from " ~ shards ~ " where invocation_id = '" ~ invocation_id ~ "')") }}
    {%- endif -%}
  {%- endif -%}
  {{ return('') }}
{%- endmacro %}


{#- The model's grain, and what every row must satisfy: one row per combination of the columns, none
    of them null, and the invariant (accuracy in [0, 1], n_correct <= n, …) true on every row. One query
    per model rather than one per check: each test is a dbt node with its own start-up cost. -#}
{% test grain(model, columns, invariant='true') %}
select *
from (
    select
        {{ columns | join(', ') }},
        count(*) over (partition by {{ columns | join(', ') }}) as n_rows,
        coalesce(({{ invariant }}), false) as invariant_holds
    from {{ model }}
)
where n_rows > 1 or not invariant_holds
   {%- for c in columns %} or {{ c }} is null{% endfor %}
{% endtest %}
