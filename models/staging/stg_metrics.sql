-- One row per (model, metric) loaded from outside, long form; a metric loaded twice keeps the latest load.
with source as (
    {{ read_raw(source('raw', 'metrics'), [
        ('model', 'varchar'), ('model_as_given', 'varchar'), ('lab', 'varchar'), ('category', 'varchar'),
        ('is_flagship', 'integer'), ('metric', 'varchar'), ('value', 'double'), ('source_file', 'varchar'),
        ('loaded_at', 'timestamptz')
    ]) }}
)

select *
from source
qualify row_number() over (partition by model, metric order by loaded_at desc nulls last, source_file desc) = 1
