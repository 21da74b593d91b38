{{ config(materialized=('incremental' if target.type == 'duckdb' else 'table'), unique_key='shard_id') }}
-- One row per response shard file the warehouse has loaded: the load log. An incremental build adds the
-- files it has not seen (int_responses_latest then reads only those); `evalhouse build` compares the log
-- with the folder and rebuilds from scratch when a loaded file changed or vanished.
with listed as (
    -- the folder's schema.parquet holds no rows: it is not a shard (evalhouse/raw_tables.py)
    select * from {{ shard_files(source('raw', 'responses')) }}
    where file not like '%/responses/schema.parquet'
),

new_files as (
    select * from listed
    {% if is_incremental() -%}
    where file not in (select file from {{ this }})
    {%- endif %}
),

counted as (
    select
        shard_file as file,
        count(*) as n_rows
    from {{ ref('stg_responses') }}
    where shard_file in (select new_files.file from new_files)
    group by shard_file
)

select
    {{ shard_id('new_files.file') }} as shard_id,
    new_files.file,
    new_files.size_bytes,
    new_files.modified_at,
    coalesce(counted.n_rows, 0) as n_rows,
    '{{ invocation_id }}' as invocation_id,
    {{ this_build() }} as loaded_at
from new_files
left join counted on new_files.file = counted.file
