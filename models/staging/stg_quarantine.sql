-- One row per input row that could not be loaded, with where it came from and why.
with source as (
    {{ read_raw('quarantine', [
        ('file', 'varchar'), ('line', 'bigint'), ('reason', 'varchar'), ('raw', 'varchar'),
        ('importer', 'varchar'), ('quarantined_at', 'timestamptz')
    ]) }}
)

select distinct on (file, line, reason) * from source
