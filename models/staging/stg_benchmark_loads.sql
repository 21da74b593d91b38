{{ config(materialized='table') }}
-- What the harness tables were built from: a fingerprint of each raw folder (file names, sizes, times).
-- `evalhouse build` compares it with the folders to rebuild the benchmark models after an import.
-- depends_on: {{ ref('stg_benchmark_samples') }}
-- depends_on: {{ ref('stg_benchmark_scores') }}
select
    {{ folder_fingerprint(source('raw', 'benchmark_samples')) }} as samples_files,
    {{ folder_fingerprint(source('raw', 'benchmark_scores')) }} as scores_files
