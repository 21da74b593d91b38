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
