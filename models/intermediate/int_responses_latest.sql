{{ config(
    materialized=('incremental' if target.type == 'duckdb' else 'table'),
    unique_key='response_id',
    incremental_strategy='delete+insert'
) }}
-- depends_on: {{ ref('stg_shards') }}
-- One row per response_id: which stored attempt wins. A success beats an error; among equals the latest
-- attempt wins (created_at, then the attempt number), and the shard pointer breaks exact ties, so every
-- build, full or incremental, on DuckDB or Spark, picks the same row. Only the keys and the pointer are
-- kept (the shard's number, not its path, which would make sorting the attempts slower); graded_responses
-- reads the winning row's columns through the pointer.
-- Incremental (DuckDB): the attempts in the shards this build loaded contest the stored winners of the
-- same ids; the winner of that contest is the winner over every attempt, so the result equals a rebuild.
with attempts as (
    select
        response_id,
        shard_id,
        shard_row,
        error is null as is_success,
        created_at,
        attempt
    from {{ ref('stg_responses') }}
    {% if is_incremental() -%}
    where shard_file in (select file from {{ ref('stg_shards') }} where invocation_id = '{{ invocation_id }}')
    {%- endif %}
),

contenders as (
    select * from attempts
    {% if is_incremental() -%}
    union all
    select response_id, shard_id, shard_row, is_success, created_at, attempt
    from {{ this }}
    where response_id in (select response_id from attempts)
    {%- endif %}
),

ranked as (
    select
        *,
        row_number() over (
            partition by response_id
            order by is_success desc, created_at desc nulls last, attempt desc nulls last, shard_id desc, shard_row desc
        ) as attempt_rank
    from contenders
)

select
    response_id,
    shard_id,
    shard_row,
    is_success,
    created_at,
    attempt,
    {{ this_build() }} as chosen_in_build
from ranked
where attempt_rank = 1
