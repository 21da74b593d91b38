-- One row per stored attempt (a row of a response shard), typed, without the long texts. response_id is
-- not unique here: a retried request has one row per attempt.
{{ read_raw(source('raw', 'responses'), response_columns(), pointers=true) }}
