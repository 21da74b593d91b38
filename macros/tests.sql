{#- The model's grain, and what every row must satisfy: one row per combination of the columns, none of
    them null, and the invariant (accuracy in [0, 1], n_correct <= n, …) true on every row. One query per
    model rather than one per check: each test is a dbt node with its own start-up cost. -#}
{% test grain(model, columns, invariant='true') %}
select *
from (
    select
        {{ columns | join(', ') }},
        count(*) over (partition by {{ columns | join(', ') }}) as n_rows,
        coalesce(({{ invariant }}), false) as invariant_holds
    from {{ model }}
) as checked
where n_rows > 1 or not invariant_holds
   {%- for c in columns %} or {{ c }} is null{% endfor %}
{% endtest %}
