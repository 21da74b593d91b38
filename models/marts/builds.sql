{{ config(materialized=('incremental' if target.type == 'duckdb' else 'table')) }}
-- One row per build of this warehouse file (a full build starts the log afresh): when, full or
-- incremental, what it loaded, and the fingerprints `evalhouse build` passes of the project (models,
-- macros, seeds, versions) and of the raw folders other than responses. `evalhouse build` compares the last
-- row with the project and the data folder to decide what the next build must do; a plain dbt run
-- leaves them null, so the next `evalhouse build` is a full one.
with shards as (
    select * from {{ ref('stg_shards') }}
),

responses as (
    select * from {{ ref('graded_responses') }}
)

select
    '{{ invocation_id }}' as invocation_id,
    {{ this_build() }} as started_at,
    {{ "'incremental'" if is_incremental() else "'full'" }} as mode,
    (
        select count(*) from shards
        where invocation_id = '{{ invocation_id }}'
    ) as n_new_shards,
    (select count(*) from shards) as n_shards,
    (select count(*) from responses) as n_responses,
    {{ build_setting("EVALHOUSE_PROJECT_FINGERPRINT") }} as project_fingerprint,
    {{ build_setting("EVALHOUSE_INPUT_FINGERPRINTS") }} as input_fingerprints,
    '{{ dbt_version }}' as dbt_version
