{% from "_record_columns.sql" import record_columns, missing_keys with context %}
-- The batch's res.jsonl lines (table jsonl_lines) as records. Each line is parsed once for its values
-- (into a struct) and once for its keys. Unvalidated, every line is taken for a JSON object and the
-- statement fails on one that is not; validated, each line is checked first (two more parses).
with checked as (
    select
        file_idx,
        line,
        cut,
        text,
{% if validate %}
        coalesce(case when json_valid(text) then json_type(text) = 'OBJECT' else false end, false) as ok
{% else %}
        coalesce(text is not null, false) as ok
{% endif %}
    from jsonl_lines
),

parsed as (
    select
        *,
        case when ok then json_transform(text, $struct) end as v,
        -- keys of arms the warehouse does not know
        case when ok then
            list_filter(
                regexp_extract_all(text, $key_in_text, 1),
                k -> regexp_extract(k, $arm_key, 1) not in ({{ arms | map('name') | join(', ') }})
            )
        end as foreign_keys
    from checked
),

judged as (
    select
        *,
        case
            when text is null then 'invalid UTF-8'
            when not ok and cut then 'truncated last line (the file ends in the middle of a record)'
            when not ok and json_valid(text) then 'not a JSON object'
            when not ok then 'invalid JSON'
            when len(foreign_keys) > 0 then
                'unknown arm '
                || array_to_string(
                    list_distinct(list_transform(foreign_keys, k -> '''' || regexp_extract(k, $arm_key, 1) || '''')),
                    ', '
                )
                || ' (keys ' || array_to_string(foreign_keys, ', ') || ')'
            when {{ missing_keys('v.') }} <> '' then 'missing keys: ' || {{ missing_keys('v.') }}
        end as defect
    from parsed
)

select
    file_idx,
    line,
{{ record_columns('v.') }}
    defect,
    null::varchar as raw
from judged
