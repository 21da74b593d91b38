-- One row per input row that could not be loaded (file, line, reason), with the raw text and importer.
with source as (
    {{ read_raw(source('raw', 'quarantine'), [
        ('file', 'varchar'), ('line', 'bigint'), ('reason', 'varchar'), ('raw', 'varchar'),
        ('importer', 'varchar'), ('quarantined_at', 'timestamptz')
    ]) }}
)

{{ first_per('source',
    ['file', 'line', 'reason', adapter.quote('raw'), 'importer', 'quarantined_at'],
    partition_by='file, line, reason',
    order_by='quarantined_at desc nulls last, ' ~ adapter.quote('raw') ~ ' desc nulls last, importer desc nulls last') }}
