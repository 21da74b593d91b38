{#- Wilson score interval (95%) for an accuracy of k out of n responses that stand for `units` independent
    instances (null when n = 0). The unit is the instance: replicates of one instance (seeds, samples) do
    not narrow the interval, so copying the data under more seeds leaves it unchanged; with one response
    per instance (units = n) it is the textbook interval for k of n. Wilson rather than the normal interval
    because cells are small and accuracies reach 0 and 1, where the normal interval collapses or leaves
    [0, 1]; bounds are clamped so rounding never puts k/n outside its own interval. Constants are double
    literals (2.0 would be a decimal in both engines, with different division rules), so DuckDB and Spark
    compute the same bits; z² is computed here because `^` is a power in DuckDB, an exclusive or in Spark. -#}
{% macro wilson_low(k, n, units, z=1.959963984540054) -%}
  case when {{ n }} > 0 then least({{ _p(k, n) }}, greatest(0.0e0, {{ _centre(k, n, units, z) }} - {{ _half(k, n, units, z) }}))
  end
{%- endmacro %}

{% macro wilson_high(k, n, units, z=1.959963984540054) -%}
  case when {{ n }} > 0 then greatest({{ _p(k, n) }}, least(1.0e0, {{ _centre(k, n, units, z) }} + {{ _half(k, n, units, z) }}))
  end
{%- endmacro %}

{% macro _p(k, n) -%}(cast({{ k }} as double) / {{ n }}){%- endmacro %}

{% macro _centre(k, n, units, z) -%}
  ({{ _p(k, n) }} + {{ z * z }}e0 / (2.0e0 * {{ units }})) / (1.0e0 + {{ z * z }}e0 / {{ units }})
{%- endmacro %}

{% macro _half(k, n, units, z) -%}
  {{ z }}e0 * sqrt({{ _p(k, n) }} * (1.0e0 - {{ _p(k, n) }}) / {{ units }} + {{ z * z }}e0 / (4.0e0 * {{ units }} * {{ units }}))
    / (1.0e0 + {{ z * z }}e0 / {{ units }})
{%- endmacro %}
