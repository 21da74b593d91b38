-- One row per stored attempt: its prompt and reply text, read from the shards on demand. The text never
-- enters a table of the warehouse; filter on response_id, or join graded.graded_responses on
-- (shard_id, shard_row) for the winning attempt's text, and only those rows' text is read.
with source as (
    select * from {{ shards(source('raw', 'responses')) }}
)

select
    response_id,
    prompt,
    response_text,
    exec_stderr,
    {{ shard_id('filename') }} as shard_id,
    file_row_number as shard_row
from source
