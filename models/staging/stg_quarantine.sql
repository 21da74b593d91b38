-- One row per input row that could not be loaded (file, line, reason), with the raw text and importer;
-- the latest quarantine of the same row wins.
with source as (
    select * from {{ shards(source('raw', 'quarantine')) }}
),

ranked as (
    select
        file,
        line,
        reason,
        {{ adapter.quote('raw') }},
        importer,
        quarantined_at,
        row_number() over (
            partition by file, line, reason
            order by quarantined_at desc nulls last, {{ adapter.quote('raw') }} desc nulls last, importer desc nulls last
        ) as quarantine_rank
    from source
)

select file, line, reason, {{ adapter.quote('raw') }}, importer, quarantined_at
from ranked
where quarantine_rank = 1
