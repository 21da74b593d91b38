-- One row per response_id: its prompt and reply text, read from the shards on demand. The text never
-- enters a table of the warehouse; filter on response_id (or join on it) and only those rows' text is read.
-- The winning attempt of each response is the row graded_responses points at (shard_id, shard_row): joining
-- on that table rather than on staging's deduplicating view binds one read of the shards instead of
-- seven, and the view is created after the graded table instead of beside it.
with texts as (
    {{ read_raw(source('raw', 'responses'), [
        ('response_id', 'varchar'), ('prompt', 'varchar'), ('response_text', 'varchar'), ('exec_stderr', 'varchar')
    ], pointers=true) }}
),

responses as (
    select response_id, shard_id, shard_row from {{ ref('graded_responses') }}
)

select texts.response_id, texts.prompt, texts.response_text, texts.exec_stderr
from texts
{{ semi_join() }} responses using (response_id, shard_id, shard_row)
