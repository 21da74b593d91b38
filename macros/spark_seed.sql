{#- dbt-spark loads a seed by pasting its values into the SQL unescaped, so a value holding a quote (the
    seed `arms` describes "the same problem's sim answer") breaks the statement. The same insert, with
    every value a properly escaped literal. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
  {%- set column_override = model['config'].get('column_types', {}) -%}
  {%- set types = [] -%}
  {%- for col_name in agate_table.column_names -%}
    {%- do types.append(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
  {%- endfor -%}
  {%- set statements = [] -%}
  {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
    {%- set sql -%}
      insert into {{ this.render() }} values
      {% for row in chunk -%}
        ({%- for value in row -%}
          cast({{ 'null' if value is none else string_literal(value | string) }} as {{ types[loop.index0] }})
          {{- "," if not loop.last }}
        {%- endfor -%}){{ "," if not loop.last }}
      {%- endfor %}
    {%- endset -%}
    {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
    {%- do statements.append(sql) if loop.first -%}
  {%- endfor -%}
  {{ return(statements[0]) }}
{% endmacro %}
