{# The rows `evalhouse export eee --model/--task` asked for (all when no filter is given). #}
{% macro matching() -%}
true
{%- if by_model %} and list_contains($models, model){% endif %}
{%- if by_task %} and list_contains($tasks, task){% endif %}
{%- endmacro %}

{# One run's rows: (source, run_id, model) and the filters. #}
{% macro of_run() -%}
source = $source and run_id = $run_id and model = $model and {{ matching() }}
{%- endmacro %}
