-- One row per model × problem instance × arm: the responses that came back over the instance's
-- replicates (seeds, samples) and how many were correct. The analysis's unit (issue 18): every paired
-- test, ANOVA and bootstrap treats the instance, not the replicate, as independent.
-- STAND-IN from the statistics branch so its tests run; the lead's mart of the same name and columns
-- replaces it.
with summed as (
    select
        model, problem_id,
        min(kind) as kind,
        min(digit) as digit,
        {%- for arm in arm_codes() %}
        sum({{ arm }}_answered) as {{ arm }}_n,
        sum({{ arm }}_correct) as {{ arm }}_n_correct,
        sum({{ arm }}_reported) as {{ arm }}_n_reported,
        sum({{ arm }}_correct_reported) as {{ arm }}_n_correct_reported{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('graded_instances') }}
    group by model, problem_id
),

counted as (
    select
        s.model, s.problem_id, s.kind, s.digit, a.arm,
        {%- for measure in ['n', 'n_correct', 'n_reported', 'n_correct_reported'] %}
        case a.arm{% for arm in arm_codes() %} when '{{ arm }}' then s.{{ arm }}_{{ measure }}{% endfor %} end as {{ measure }}
        {{- "," if not loop.last }}
        {%- endfor %}
    from summed as s
    cross join {{ ref('arms') }} as a
),

registry as (
    select model, lab from {{ ref('model_registry') }}
)

select
    c.model,
    coalesce(r.lab, split_part(c.model, '/', 1)) as lab,
    c.problem_id, c.kind, c.digit, c.arm,
    cast(c.n as bigint) as n,
    cast(c.n_correct as bigint) as n_correct,
    cast(c.n_correct as double) / c.n as accuracy,
    cast(c.n_reported as bigint) as n_reported,
    cast(c.n_correct_reported as bigint) as n_correct_reported
from counted as c
left join registry as r using (model)
where c.n > 0
