{{ config(materialized='incremental') }}
-- One row per build of this warehouse file: when, how (a full build or an incremental one), what it
-- loaded, the fingerprint of the project (models, macros, seeds) it ran, and of the raw folders other than
-- responses. `evalhouse build` compares the last row with the project and the data folder to decide what
-- the next build must do. A full build starts the log afresh.
-- depends_on: {{ ref('stg_shards') }}
select
    '{{ invocation_id }}' as invocation_id,
    '{{ run_started_at }}'::timestamptz as started_at,
    {{ "'incremental'" if is_incremental() else "'full'" }} as mode,
    (select count(*) from {{ ref('stg_shards') }} where invocation_id = '{{ invocation_id }}') as n_new_shards,
    (select count(*) from {{ ref('stg_shards') }}) as n_shards,
    (select count(*) from {{ ref('graded_responses') }}) as n_responses,
    nullif('{{ env_var("EVALHOUSE_PROJECT_FINGERPRINT", "") }}', '') as project_fingerprint,
    {{ folder_fingerprint(source('raw', 'problems')) }} as problems_files,
    {{ folder_fingerprint(source('raw', 'metrics')) }} as metrics_files,
    {{ folder_fingerprint(source('raw', 'quarantine')) }} as quarantine_files,
    '{{ dbt_version }}' as dbt_version
