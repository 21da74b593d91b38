-- Per run and file: the records, the responses (an arm that ran) and the arms that never ran.
create or replace temp table run_counts as
select
    l.importer,
    l.run,
    l.model_id,
    l.seed_i,
    l.file_idx,
    count(*) as n_rows,
    sum(
{% for arm in arms %}
        (coalesce(r.{{ ident(arm, 'status') }}, '') <> '')::int{{ ' +' if not loop.last }}
{% endfor %}
    ) as n_responses,
    sum(
{% for arm in arms %}
        (r.{{ ident(arm, 'mode') }} is not null and coalesce(r.{{ ident(arm, 'status') }}, '') = '')::int{{ ' +' if not loop.last }}
{% endfor %}
    ) as n_never
from identity as l
join records as r on r.rid = l.rid
group by all
