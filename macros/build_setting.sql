{#- A value `evalhouse build` passes in an environment variable (NULL when unset). On DuckDB it is read
    when the query runs, from the variable evalhouse/dbt_plugin.py sets: through `env_var` a value that
    changes with every build would make dbt parse the model again on every build. -#}
{% macro build_setting(name) -%}
  {%- if target.type == 'duckdb' -%}
    nullif(cast(getvariable('{{ name | lower }}') as varchar), '')
  {%- else -%}
    nullif('{{ env_var(name, "") }}', '')
  {%- endif -%}
{%- endmacro %}


{#- This build, as the rows it writes name it (graded_in_build, chosen_in_build): its start, which
    marts.builds keeps as started_at. A timestamp, not the invocation id: DuckDB writes ten million copies
    of a constant timestamp in 0.2 s, of a constant string in 1.5 s. -#}
{% macro this_build() -%}
  cast('{{ run_started_at }}' as timestamp)
{%- endmacro %}
