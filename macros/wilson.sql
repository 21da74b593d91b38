{#- Wilson score interval (95%) for k successes out of n; NULL when n = 0. Used instead of the normal
    interval because cells are small and accuracies reach 0 and 1, where the normal interval collapses
    to a point or leaves [0, 1]. Bounds are (centre ∓ half-width) / (1 + z²/n), clamped so rounding never
    puts k/n outside its own interval. -#}
{% macro wilson_low(k, n, z=1.959963984540054) -%}
  case when {{ n }} > 0 then least(({{ k }})::double / {{ n }}, greatest(0.0,
    ({{ _wilson_centre(k, n, z) }} - {{ _wilson_half(k, n, z) }}) / (1 + {{ z }}^2 / {{ n }})))
  end
{%- endmacro %}

{% macro wilson_high(k, n, z=1.959963984540054) -%}
  case when {{ n }} > 0 then greatest(({{ k }})::double / {{ n }}, least(1.0,
    ({{ _wilson_centre(k, n, z) }} + {{ _wilson_half(k, n, z) }}) / (1 + {{ z }}^2 / {{ n }})))
  end
{%- endmacro %}

{% macro _wilson_centre(k, n, z) -%}
  (({{ k }})::double / {{ n }} + {{ z }}^2 / (2.0 * {{ n }}))
{%- endmacro %}

{% macro _wilson_half(k, n, z) -%}
  {{ z }} * sqrt(({{ k }})::double / {{ n }} * (1 - ({{ k }})::double / {{ n }}) / {{ n }} + {{ z }}^2 / (4.0 * {{ n }} * {{ n }}))
{%- endmacro %}
