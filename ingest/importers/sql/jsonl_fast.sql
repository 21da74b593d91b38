{% from "_record_columns.sql" import record_columns, missing_keys with context %}
-- Well-formed res.jsonl files through DuckDB's own JSON reader, as records. `file_index` counts from 0 in
-- the list of paths given; $file_idx maps it to the batch's file numbers. The names of missing keys are only
-- spelled out for a record that lacks some: a test of nulls settles the others.
select
    ($file_idx)[file_index::bigint + 1]::integer as file_idx,
    null::bigint as line,
{{ record_columns('') }}
    case
        when
{% for key in required_core %}
            {{ ident(key) }} is not null and
{% endfor %}
{% for arm in arms %}
            (
                ({% for s in required_arm %}{{ ident(arm, s) }} is null{{ ' and ' if not loop.last }}{% endfor %})
                or ({% for s in required_arm %}{{ ident(arm, s) }} is not null{{ ' and ' if not loop.last }}{% endfor %})
            ){{ ' and' if not loop.last }}
{% endfor %}
        then null
        when {{ missing_keys('') }} <> '' then 'missing keys: ' || {{ missing_keys('') }}
    end as defect,
    null::varchar as raw
from read_json($paths, format = 'newline_delimited', columns = $columns, maximum_object_size = 33554432)
