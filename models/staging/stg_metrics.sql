-- One row per (model, metric) loaded from outside, long form; a metric loaded twice keeps the latest load.
with source as (
    {{ read_raw(source('raw', 'metrics'), [
        ('model', 'varchar'), ('model_as_given', 'varchar'), ('lab', 'varchar'), ('category', 'varchar'),
        ('is_flagship', 'integer'), ('metric', 'varchar'), ('value', 'double'), ('source_file', 'varchar'),
        ('loaded_at', 'timestamptz')
    ]) }}
)

{{ first_per('source',
    ['model', 'model_as_given', 'lab', 'category', 'is_flagship', 'metric', 'value', 'source_file', 'loaded_at'],
    partition_by='model, metric',
    order_by='loaded_at desc nulls last, source_file desc nulls last, value desc nulls last, model_as_given desc nulls last, '
             ~ 'lab desc nulls last, category desc nulls last, is_flagship desc nulls last') }}
