{#- Wilson score interval (95%) for k successes out of n; NULL when n = 0.
    Used instead of the normal interval because cells are small and accuracies reach 0 and 1. -#}
{% macro wilson_low(k, n, z=1.959963984540054) -%}
  case when {{ n }} > 0 then
    (({{ k }})::double / {{ n }} + {{ z }}^2 / (2 * {{ n }})
      - {{ z }} * sqrt((({{ k }})::double / {{ n }}) * (1 - ({{ k }})::double / {{ n }}) / {{ n }} + {{ z }}^2 / (4 * {{ n }}::double * {{ n }})))
    / (1 + {{ z }}^2 / {{ n }})
  end
{%- endmacro %}

{% macro wilson_high(k, n, z=1.959963984540054) -%}
  case when {{ n }} > 0 then
    (({{ k }})::double / {{ n }} + {{ z }}^2 / (2 * {{ n }})
      + {{ z }} * sqrt((({{ k }})::double / {{ n }}) * (1 - ({{ k }})::double / {{ n }}) / {{ n }} + {{ z }}^2 / (4 * {{ n }}::double * {{ n }})))
    / (1 + {{ z }}^2 / {{ n }})
  end
{%- endmacro %}
