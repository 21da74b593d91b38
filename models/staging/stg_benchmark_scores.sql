{{ config(materialized='table') }}
-- One row per score a harness reported: run × model × task × split × variant × scorer × filter ×
-- perturbation × metric; the latest import of each is kept.
with source as (
    {{ read_raw(source('raw', 'benchmark_scores'), [
        ('source', 'varchar'), ('run_id', 'varchar'), ('model', 'varchar'), ('model_as_given', 'varchar'),
        ('task', 'varchar'), ('split', 'varchar'), ('variant', 'varchar'), ('scorer', 'varchar'),
        ('filter', 'varchar'), ('perturbation', 'varchar'), ('metric', 'varchar'), ('value', 'double'),
        ('stderr', 'double'), ('n_samples', 'bigint'), ('harness_version', 'varchar'), ('source_file', 'varchar'),
        ('created_at', 'timestamptz'), ('imported_at', 'timestamptz')
    ]) }}
)

{{ first_per('source',
    ['source', 'run_id', 'model', 'model_as_given', 'task', 'split', 'variant', 'scorer', 'filter', 'perturbation',
     'metric', 'value', 'stderr', 'n_samples', 'harness_version', 'source_file', 'created_at', 'imported_at'],
    partition_by="source, run_id, model, task, coalesce(split, ''), coalesce(variant, ''), coalesce(scorer, ''), "
                 ~ "coalesce(filter, ''), coalesce(perturbation, ''), metric",
    order_by='imported_at desc nulls last, source_file desc nulls last') }}
