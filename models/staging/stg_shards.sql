{{ config(materialized=incremental_on_duckdb(), unique_key='shard_id', on_schema_change='fail') }}
-- One row per response shard the warehouse has loaded: the load log. A build lists the shard files, adds
-- the ones it has not seen, and refuses to go on when a loaded shard changed or vanished (its rows may
-- have been replaced): only a full rebuild can then give the right answer. On Spark, which rebuilds in
-- full, it lists every shard.
{{ shard_log(source('raw', 'responses')) }}
