{#- The model's grain, and what every row must satisfy: one row per combination of the columns, none of
    them null, and the invariant (accuracy in [0, 1], n_correct <= n, …) true on every row. One query per
    model rather than one per check (each test is a dbt node with its own start-up cost), and hash
    aggregates rather than a window, so it reads a ten-million-row table without sorting it.

    Repeated keys are looked for by their hash first, a number, which groups faster than the strings
    themselves (1.4 s against 2.0 s for ten million response ids); the rows of a repeated hash are then
    grouped by value, so a collision of two different keys is never reported.

    `written_in`: a column naming the build that wrote each row, on an incremental model whose unique key
    is the grain. Only the rows this build wrote are checked (in a full build, all): the others passed
    when they were written, and a row written again replaces its key's row instead of adding one. -#}
{% test grain(model, columns, invariant='true', written_in=none) %}
{#- the filter is repeated, not a CTE: DuckDB materialises a CTE read twice, every column of every row -#}
{%- set rows -%}
    {{ model }}{% if written_in %} where {{ written_in }} = {{ this_build() }}{% endif %}
{%- endset %}
{%- set key_hash = 'hash(' ~ (columns | join(', ')) ~ ')' %}
with repeated_hashes as (
    select {{ key_hash }} as key_hash
    from {{ rows }}
    group by {{ key_hash }}
    having count(*) > 1
)

select {{ columns | join(', ') }}, 'more than one row' as failure
from {{ rows }}
{%- if written_in %} and{% else %} where{% endif %} {{ key_hash }} in (select key_hash from repeated_hashes)
group by {{ columns | join(', ') }}
having count(*) > 1

union all

select {{ columns | join(', ') }}, 'a key column is null or the invariant fails' as failure
from {{ rows }}
{%- if written_in %} and{% else %} where{% endif %} (not coalesce(({{ invariant }}), false)
   {%- for c in columns %} or {{ c }} is null{% endfor %})
{% endtest %}
