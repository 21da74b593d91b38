{% from "_export_filters.sql" import of_run with context %}
-- One run's scores: the setting (task, split, …), the metric and its value.
select
    {{ setting | map('ident') | join(', ') }},
    metric,
    value,
    stderr,
    n_samples,
    harness_version,
    created_at
from marts.benchmark_scores
where {{ of_run() }}
order by all
