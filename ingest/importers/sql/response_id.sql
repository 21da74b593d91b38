-- The `response_id` macro (prepare.sql) for one set of fields, to compare with the collector's.
select response_id($model, $problem_id, $arm, $seed)
