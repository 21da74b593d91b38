{#- What differs between the two engines the models run on, DuckDB (targets `local`, `s3`) and Spark.

    `shards(source('raw', …))`: a raw folder's files as a relation. DuckDB reads the source's external
    location (models/staging/__sources.yml), which adds each row's file (`filename`) and position
    (`file_row_number`); Spark reads the same files and names those two columns the same way. -#}
{% macro shards(relation) -%}
  {{ return(adapter.dispatch('shards', 'evalhouse')(relation)) }}
{%- endmacro %}

{% macro default__shards(relation) -%}
  {{ relation }}
{%- endmacro %}

{% macro spark__shards(relation) -%}
  (select *, _metadata.file_path as filename, _metadata.row_index as file_row_number
   from parquet.`{{ _spark_glob(relation) }}`)
{%- endmacro %}


{#- The key of a shard: a 60-bit number from the MD5 of its path below `raw/`, so both engines give a
    shard the same key wherever the data folder lies, and break ties between attempts the same way. -#}
{% macro shard_id(path) -%}
  {{ return(adapter.dispatch('shard_id', 'evalhouse')(path)) }}
{%- endmacro %}

{% macro default__shard_id(path) -%}
  cast(('0x' || substr(md5({{ shard_path(path) }}), 1, 15)) as bigint)
{%- endmacro %}

{% macro spark__shard_id(path) -%}
  cast(conv(substr(md5({{ shard_path(path) }}), 1, 15), 16, 10) as bigint)
{%- endmacro %}


{#- A shard's path below `raw/` (Spark names files by percent-escaped URI: a literal + stays %2B). -#}
{% macro shard_path(path) -%}
  {{ return(adapter.dispatch('shard_path', 'evalhouse')(path)) }}
{%- endmacro %}

{% macro default__shard_path(path) -%}
  regexp_replace({{ path }}, '^.*/raw/', '')
{%- endmacro %}

{% macro spark__shard_path(path) -%}
  regexp_replace(url_decode(replace({{ path }}, '+', '%2B')), '^.*/raw/', '')
{%- endmacro %}


{#- A raw folder's files: file, size_bytes, modified_at. DuckDB lists them without reading them; Spark
    reads the files' metadata columns (files without rows are not listed there). -#}
{% macro shard_files(relation) -%}
  {{ return(adapter.dispatch('shard_files', 'evalhouse')(relation)) }}
{%- endmacro %}

{% macro default__shard_files(relation) -%}
  (select filename as file, size as size_bytes, last_modified as modified_at
   from read_blob('{{ _glob(relation) }}'))
{%- endmacro %}

{% macro spark__shard_files(relation) -%}
  (select _metadata.file_path as file, _metadata.file_size as size_bytes, _metadata.file_modification_time as modified_at
   from parquet.`{{ _spark_glob(relation) }}`
   group by _metadata.file_path, _metadata.file_size, _metadata.file_modification_time)
{%- endmacro %}


{#- The glob a raw source reads (the first quoted string of its external location). -#}
{% macro _glob(relation) -%}
  {%- if not execute -%}{{ return('') }}{%- endif -%}
  {%- set node = graph.sources['source.evalhouse.raw.' ~ relation.identifier] -%}
  {{ return(modules.re.search("'([^']+)'", node.meta.external_location).group(1)) }}
{%- endmacro %}

{#- Spark's globs have no `**`: a braced list of depths stands for it. -#}
{% macro _spark_glob(relation) -%}
  {{ return(_glob(relation) | replace('/**/*', '/{*,*/*,*/*/*,*/*/*/*}')) }}
{%- endmacro %}
