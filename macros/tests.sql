{#- The model's grain, and what every row must satisfy: one row per combination of the columns, none of
    them null, and the invariant (accuracy in [0, 1], n_correct <= n, …) true on every row. One query per
    model rather than one per check (each test is a dbt node with its own start-up cost), and a hash
    aggregate rather than a window, so it reads a ten-million-row table once, without sorting it. -#}
{% test grain(model, columns, invariant='true') %}
select {{ columns | join(', ') }}, 'more than one row' as failure
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

union all

select {{ columns | join(', ') }}, 'a key column is null or the invariant fails' as failure
from {{ model }}
where not coalesce(({{ invariant }}), false)
   {%- for c in columns %} or {{ c }} is null{% endfor %}
{% endtest %}
