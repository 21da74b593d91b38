{% from "_export_filters.sql" import matching with context %}
-- The runs (source, run, model) holding a score or an instance that matches the filters.
select distinct source, run_id, model
from marts.benchmark_scores
where {{ matching() }}
union
select distinct source, run_id, model
from marts.benchmark_instances
where {{ matching() }}
order by all
