-- The text of every response to read (aid = rid·4 + arm number), for each arm that ran. An execution's
-- outcome comes from its status (a reply's status is the legacy pipeline's message, not an execution's).
-- Quarantined records are not left out: testing for them costs more than reading their few answers,
-- which no response joins.
create or replace temp table arm_texts as
{% for arm in arms %}
select
    r.rid * {{ arms | length }} + {{ loop.index0 }} as aid,
    trim(r.kind) as kind,
    r.{{ ident(arm, 'mode') }} as mode,
    r.{{ ident(arm, 'text') }} as text,
    case when r.{{ ident(arm, 'mode') }} <> $reply then legacy_exec_status(r.{{ ident(arm, 'status') }}) end as exec_status
from records as r
where coalesce(r.{{ ident(arm, 'status') }}, '') <> ''
{% if not loop.last %}
union all
{% endif %}
{% endfor %}
