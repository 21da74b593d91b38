{#- Wilson score interval (95%) for k successes out of n; NULL when n = 0. Used instead of the normal
    interval because cells are small and accuracies reach 0 and 1, where the normal interval collapses
    to a point or leaves [0, 1]. Bounds are (centre ∓ half-width) / (1 + z²/n), clamped so rounding never
    puts k/n outside its own interval. Every constant is a double literal (2.0 would be a decimal in both
    engines, with different division rules), so DuckDB and Spark compute the same bits. -#}
{% macro wilson_low(k, n, z=1.959963984540054) -%}
  case when {{ n }} > 0 then least(cast({{ k }} as double) / {{ n }}, greatest({{ _double(0) }},
    ({{ _wilson_centre(k, n, z) }} - {{ _wilson_half(k, n, z) }}) / ({{ _double(1) }} + {{ _double(z * z) }} / {{ n }})))
  end
{%- endmacro %}

{% macro wilson_high(k, n, z=1.959963984540054) -%}
  case when {{ n }} > 0 then greatest(cast({{ k }} as double) / {{ n }}, least({{ _double(1) }},
    ({{ _wilson_centre(k, n, z) }} + {{ _wilson_half(k, n, z) }}) / ({{ _double(1) }} + {{ _double(z * z) }} / {{ n }})))
  end
{%- endmacro %}

{% macro _wilson_centre(k, n, z) -%}
  (cast({{ k }} as double) / {{ n }} + {{ _double(z * z) }} / ({{ _double(2) }} * {{ n }}))
{%- endmacro %}

{% macro _wilson_half(k, n, z) -%}
  {{ _double(z) }} * sqrt(cast({{ k }} as double) / {{ n }} * ({{ _double(1) }} - cast({{ k }} as double) / {{ n }}) / {{ n }}
    + {{ _double(z * z) }} / ({{ _double(4) }} * {{ n }} * {{ n }}))
{%- endmacro %}

{#- A double literal (scientific notation is a double in both engines). z² is computed here rather than
    in SQL: `^` is a power in DuckDB, an exclusive or in Spark. -#}
{% macro _double(value) -%}
  {%- set text = value | string -%}
  {{ text if 'e' in text else text ~ 'e0' }}
{%- endmacro %}
