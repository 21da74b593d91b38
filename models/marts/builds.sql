{{ config(materialized='incremental') }}
-- One row per build of this warehouse file: when, how (a full build or an incremental one), what it
-- loaded, and the fingerprint of the project (models, macros, seeds) it was built with. A full build
-- starts the log afresh, like the rest of the file.
-- depends_on: {{ ref('stg_shards') }}
select
    '{{ invocation_id }}' as invocation_id,
    '{{ run_started_at }}'::timestamptz as started_at,
    {{ "'incremental'" if is_incremental() else "'full'" }} as mode,
    (select count(*) from {{ ref('stg_shards') }} where invocation_id = '{{ invocation_id }}') as n_new_shards,
    (select count(*) from {{ ref('stg_shards') }}) as n_shards,
    (select count(*) from {{ ref('graded_responses') }}) as n_responses,
    nullif('{{ env_var("EVALHOUSE_PROJECT_FINGERPRINT", "") }}', '') as project_fingerprint,
    '{{ dbt_version }}' as dbt_version
