-- One row per response read again by `evalhouse regrade` (rows stored without an answer read by the
-- current extractor): the answer read, keyed like the response's own row (shard_id, shard_row).
with source as (
    select * from {{ shards(source('raw', 'answers')) }}
)

select
    {{ shard_id('shard') }} as shard_id,
    shard_row,
    response_id,
    parsed_answer,
    parse_error,
    verdict,
    verdict_reason,
    extractor_version
from source
