{#
  The record columns read from a res.jsonl object, from `source_row` to the code arm's execution columns
  (records.COLUMNS order): `prefix` is what a key is read from (`v.` for a parsed struct, nothing for
  read_json's own columns). Both res.jsonl readers (res_jsonl.sql, jsonl_fast.sql) select them so.
#}
{% macro record_columns(prefix) %}
    null::varchar as source_row,
{% for column, key in core %}
    {{ prefix }}{{ ident(key) }} as {{ ident(column) }},
{% endfor %}
{% for arm in arms %}
{% for field, suffix in arm_keys %}
{% if (arm ~ '_' ~ suffix) in keys %}
    {{ prefix }}{{ ident(arm, suffix) }} as {{ ident(arm, field) }},
{% else %}
    null::varchar as {{ ident(arm, field) }},
{% endif %}
{% endfor %}
    {{ '$repr' if arm in repr_arms else '$reply' }} as {{ ident(arm, 'mode') }},
{% endfor %}
    null::varchar as code_exit_code,
    null::varchar as code_stderr,
    null::varchar as code_latency_ms,
{% endmacro %}

{#- The names of the required keys a record lacks, as one comma-separated list (empty when none). An arm's
    keys are only required when some of them are present. #}
{% macro missing_keys(prefix) -%}
concat_ws(', ',
{% for key in required_core %}
    case when {{ prefix }}{{ ident(key) }} is null then {{ name(key) }} end,
{% endfor %}
{% for arm in arms %}
{% set last_arm = loop.last %}
{% for suffix in required_arm %}
    case when ({% for s in required_arm %}{{ prefix }}{{ ident(arm, s) }} is not null{{ ' or ' if not loop.last }}{% endfor %})
        and {{ prefix }}{{ ident(arm, suffix) }} is null then {{ name(arm, suffix) }} end{{ ',' if not (loop.last and last_arm) }}
{% endfor %}
{% endfor %}
)
{%- endmacro %}
