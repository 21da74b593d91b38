-- One row per imported attempt (a row of an importer's shard): where it came from in the legacy file and
-- what the source itself recorded, beside the shard pointer that graded.graded_responses carries.
with source as (
    select * from {{ shards(source('raw', 'responses')) }}
)

select
    -- keys
    response_id,
    source,
    run_id,
    -- where in the legacy file
    source_file,
    source_line,
    source_row,
    source_request_id,
    model_as_given,
    index_in_kind,
    -- what the source recorded: its status message for the arm, whether its parser failed
    source_status,
    source_parse_failed,
    -- the answer as the model wrote it, before the kind's normalisation
    raw_answer,
    -- where the row lives
    {{ shard_id('filename') }} as shard_id,
    file_row_number as shard_row
from source
where source <> 'collector'
