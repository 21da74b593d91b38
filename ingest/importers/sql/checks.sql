-- Each record's reason to be quarantined (null when it passed), and its position among its kind's
-- records: the instance index of files that record none (res.csv), records of a kind ordered by digit,
-- then as they appear. Quarantined records keep their place in it.
create or replace temp table checks as
select
    rid,
    file_idx,
    line,
    coalesce(defect, nullif(concat_ws('; ',
        case when coalesce(trim(model), '') = '' then 'empty model' end,
        case when coalesce(trim(kind), '') = '' then 'empty kind' end,
        not_integer('digit', digit),
        not_integer('seed', seed),
        case when nullif(trim(index_in_kind), '') is not null then not_integer('index_in_kind', index_in_kind) end,
{% for arm in arms %}
        case when coalesce({{ ident(arm, 'status') }}, '') <> '' and legacy_bool({{ ident(arm, 'correct') }}) is null
            then {{ name(arm) }} || ' verdict ' || coalesce('''' || {{ ident(arm, 'correct') }} || '''', 'missing')
                || ' is not a boolean' end{{ ',' if not loop.last }}
{% endfor %}
    ), '')) as reason,
    row_number() over (
        partition by file_idx, trim(kind)
        order by try_cast(trim(digit) as bigint) nulls last, try_cast(source_row as bigint), line
    ) as position_in_kind
from records
