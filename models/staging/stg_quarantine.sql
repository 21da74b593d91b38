-- One row per input row that could not be loaded (file, line, reason), with the raw text and importer.
with source as (
    {{ read_raw(source('raw', 'quarantine'), [
        ('file', 'varchar'), ('line', 'bigint'), ('reason', 'varchar'), ('raw', 'varchar'),
        ('importer', 'varchar'), ('quarantined_at', 'timestamptz')
    ]) }}
)

select *
from source
qualify row_number() over (partition by file, line, reason order by quarantined_at desc nulls last) = 1
