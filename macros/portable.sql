{#- What differs between the two engines the models run on, DuckDB (target `local`) and Spark (target
    `spark`). Models and shared macros write standard SQL and call these where the dialects part: no
    QUALIFY, no `::` casts, no double-quoted names or strings in shared SQL. -#}

{#- A column type from the project's vocabulary (DuckDB's names) in the engine's own. -#}
{% macro sql_type(name) -%}
  {{ return(adapter.dispatch('sql_type', 'evalhouse')(name)) }}
{%- endmacro %}

{% macro default__sql_type(name) -%}
  {{ return(name) }}
{%- endmacro %}

{% macro spark__sql_type(name) -%}
  {#- Spark's timestamp is an instant shown in the session's time zone (UTC here): DuckDB's timestamptz. -#}
  {{ return({'varchar': 'string', 'timestamptz': 'timestamp', 'ubigint': 'bigint'}.get(name, name)) }}
{%- endmacro %}


{#- A string literal: DuckDB doubles a quote; Spark reads backslash escapes and joins adjacent literals. -#}
{% macro string_literal(text) -%}
  {{ return(adapter.dispatch('string_literal', 'evalhouse')(text)) }}
{%- endmacro %}

{% macro default__string_literal(text) -%}
  {{ return("'" ~ text | replace("'", "''") ~ "'") }}
{%- endmacro %}

{% macro spark__string_literal(text) -%}
  {{ return("'" ~ text | replace("\\", "\\\\") | replace("'", "\\'") ~ "'") }}
{%- endmacro %}


{#- A list of strings, usable after `in`: ('a', 'b'). -#}
{% macro string_tuple(values) -%}
  ({% for v in values %}{{ string_literal(v) }}{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}


{#- Join keywords for a semi and an anti join (rows of the left side with, or without, a match). -#}
{% macro semi_join() -%}{{ return(adapter.dispatch('semi_join', 'evalhouse')()) }}{%- endmacro %}
{% macro default__semi_join() -%}{{ return('semi join') }}{%- endmacro %}
{% macro spark__semi_join() -%}{{ return('left semi join') }}{%- endmacro %}

{% macro anti_join() -%}{{ return(adapter.dispatch('anti_join', 'evalhouse')()) }}{%- endmacro %}
{% macro default__anti_join() -%}{{ return('anti join') }}{%- endmacro %}
{% macro spark__anti_join() -%}{{ return('left anti join') }}{%- endmacro %}


{#- The continuous (interpolated) quantiles of `expr` as an array; `list_item` reads one, counting from 1.
    Both engines interpolate linearly between the closest ranks (type 7). -#}
{% macro quantiles(expr, probabilities) -%}
  {{ return(adapter.dispatch('quantiles', 'evalhouse')(expr, probabilities)) }}
{%- endmacro %}

{% macro default__quantiles(expr, probabilities) -%}
  quantile_cont({{ expr }}, [{{ probabilities | join(', ') }}])
{%- endmacro %}

{% macro spark__quantiles(expr, probabilities) -%}
  percentile({{ expr }}, array({{ probabilities | join(', ') }}))
{%- endmacro %}

{% macro list_item(list, position) -%}
  {{ return(adapter.dispatch('list_item', 'evalhouse')(list, position)) }}
{%- endmacro %}

{% macro default__list_item(list, position) -%}{{ list }}[{{ position }}]{%- endmacro %}
{% macro spark__list_item(list, position) -%}element_at({{ list }}, {{ position }}){%- endmacro %}


{#- The mean of `expr` summed in the order of `order_by`, so the result does not depend on the order rows
    arrive in. Spark has no ordered aggregate: its mean can differ in the last bit of a double. -#}
{% macro ordered_avg(expr, order_by) -%}
  {{ return(adapter.dispatch('ordered_avg', 'evalhouse')(expr, order_by)) }}
{%- endmacro %}

{% macro default__ordered_avg(expr, order_by) -%}avg({{ expr }} order by {{ order_by }}){%- endmacro %}
{% macro spark__ordered_avg(expr, order_by) -%}avg({{ expr }}){%- endmacro %}


{#- The first row per `partition_by` in the order `order_by` (which must be total: ties then hold equal
    rows), keeping `columns`. DuckDB's QUALIFY and a filtered window in a subquery plan the same. -#}
{% macro first_per(relation, columns, partition_by, order_by) -%}
select {{ columns | join(', ') }}
from (
    select {{ columns | join(', ') }}, row_number() over (partition by {{ partition_by }} order by {{ order_by }}) as row_rank
    from {{ relation }}
) as ranked
where row_rank = 1
{%- endmacro %}


{#- The key of a shard: a 60-bit number from the MD5 of its path below the `raw/` folder, so both
    engines give a shard the same key wherever the data folder lies, and ties between attempts are
    broken the same way. -#}
{% macro shard_key(path) -%}
  {{ return(adapter.dispatch('shard_key', 'evalhouse')(path)) }}
{%- endmacro %}

{% macro default__shard_key(path) -%}
  cast(('0x' || substr(md5(regexp_replace({{ path }}, '^.*/raw/', '')), 1, 15)) as bigint)
{%- endmacro %}

{% macro spark__shard_key(path) -%}
  {#- Spark names files by URI: percent-escaped (a literal + survives url_decode as %2B). -#}
  cast(conv(substr(md5(regexp_replace(url_decode(replace({{ path }}, '+', '%2B')), '^.*/raw/', '')), 1, 15), 16, 10) as bigint)
{%- endmacro %}


{#- Statements run when a build starts. DuckDB: several models read the same shards' footers (schemas,
    row counts), so keep them cached for the run. -#}
{% macro on_run_start() -%}
  {{ return(adapter.dispatch('on_run_start', 'evalhouse')()) }}
{%- endmacro %}

{% macro default__on_run_start() -%}{{ return('') }}{%- endmacro %}
{% macro duckdb__on_run_start() -%}{{ return('set parquet_metadata_cache = true') }}{%- endmacro %}
