-- One row per response_id: the attempts deduplicated. A success beats an error; among equals the
-- latest attempt wins (created_at, then attempt number, then the shard pointer).
{{ staged_responses(ref('stg_response_attempts')) }}
