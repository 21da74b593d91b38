{{ config(materialized='table') }}
-- One row per harness sample score: run × model × task × split × variant × sample × epoch × scorer ×
-- filter × perturbation × metric. A log imported from two places (two copies of one file) is one run:
-- the latest import of each row is kept.
with source as (
    {{ read_raw(source('raw', 'benchmark_samples'), [
        ('source', 'varchar'), ('run_id', 'varchar'), ('model', 'varchar'), ('model_as_given', 'varchar'),
        ('task', 'varchar'), ('split', 'varchar'), ('variant', 'varchar'), ('sample_id', 'varchar'),
        ('epoch', 'integer'), ('scorer', 'varchar'), ('filter', 'varchar'), ('perturbation', 'varchar'),
        ('metric', 'varchar'), ('value', 'double'), ('value_text', 'varchar'), ('answer', 'varchar'),
        ('target', 'varchar'), ('input', 'varchar'), ('output', 'varchar'), ('input_tokens', 'bigint'),
        ('output_tokens', 'bigint'), ('total_tokens', 'bigint'), ('error', 'varchar'), ('source_file', 'varchar'),
        ('source_line', 'bigint'), ('source_member', 'varchar'), ('created_at', 'timestamptz'),
        ('imported_at', 'timestamptz')
    ]) }}
)

{{ first_per('source',
    ['source', 'run_id', 'model', 'model_as_given', 'task', 'split', 'variant', 'sample_id', 'epoch', 'scorer',
     'filter', 'perturbation', 'metric', 'value', 'value_text', 'answer', 'target', 'input', 'output',
     'input_tokens', 'output_tokens', 'total_tokens', 'error', 'source_file', 'source_line', 'source_member',
     'created_at', 'imported_at'],
    partition_by="source, run_id, model, task, coalesce(split, ''), coalesce(variant, ''), sample_id, epoch, "
                 ~ "coalesce(scorer, ''), coalesce(filter, ''), coalesce(perturbation, ''), coalesce(metric, '')",
    order_by='imported_at desc nulls last, source_file desc nulls last, source_line asc nulls last') }}
