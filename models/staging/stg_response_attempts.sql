-- One row per stored attempt (a row of a response shard), typed, without the long texts. response_id is
-- not unique here: a retried request has one row per attempt. Where a row carries no parsed answer (older
-- shards, other tools), the answer is read from its text in SQL (extracted_answer).
{{ response_attempts(source('raw', 'responses')) }}
