-- One row per imported response (response_id × source × run): where it came from in the legacy file
-- and what the source itself recorded. Reads only the importers' shards (`source=legacy-*`), so it
-- costs nothing when nothing was imported.
with source as (
    {{ read_raw('responses/source=legacy-*', [
        ('response_id', 'varchar'), ('run_id', 'varchar'), ('source', 'varchar'), ('created_at', 'timestamp'),
        ('model_as_given', 'varchar'), ('index_in_kind', 'integer'), ('raw_answer', 'varchar'),
        ('source_file', 'varchar'), ('source_line', 'bigint'), ('source_row', 'varchar'),
        ('source_request_id', 'varchar'), ('source_status', 'varchar'), ('source_parse_failed', 'boolean')
    ]) }}
)

select
    -- keys
    response_id, source, run_id,
    -- where in the legacy file
    source_file, source_line, source_row, source_request_id, model_as_given, index_in_kind,
    -- what the source recorded: its status message for the arm, whether its parser failed
    source_status, source_parse_failed,
    -- the answer as the model wrote it, before the kind's normalisation
    raw_answer
from (
    {{ first_per('source',
        ['response_id', 'source', 'run_id', 'source_file', 'source_line', 'source_row', 'source_request_id',
         'model_as_given', 'index_in_kind', 'source_status', 'source_parse_failed', 'raw_answer'],
        partition_by='response_id, source, run_id',
        order_by='created_at desc nulls last, source_file asc nulls last, source_line asc nulls last, '
                 ~ 'source_row asc nulls last, raw_answer asc nulls last') }}
) as latest
