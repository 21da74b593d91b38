{#- Schemas are named exactly `staging`, `graded`, `marts` (and `seeds`), not `main_staging`:
    users type them in the DuckDB shell. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
