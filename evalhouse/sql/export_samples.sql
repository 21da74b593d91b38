{% from "_export_filters.sql" import of_run with context %}
-- One run's instances, in the order the samples file lists them.
select
    {{ setting | map('ident') | join(', ') }},
    metric,
    instance_id,
    epoch,
    score,
    value_text,
    answer,
    target,
    input,
    output,
    input_tokens,
    output_tokens,
    error
from marts.benchmark_instances
where {{ of_run() }}
order by task, metric, variant, scorer, filter, perturbation, split, instance_id, epoch
