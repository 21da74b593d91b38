-- One row per lab × arm × kind. Two averages, named: `accuracy` (= accuracy_micro) pools every response
-- of the lab's models; accuracy_macro is the mean of the lab's per-model accuracies.
with per_model as (
    select * from {{ ref('acc_model_arm_kind') }}
),

registry as (
    select model, lab from {{ ref('model_registry') }}
),

rolled as (
    select
        coalesce(r.lab, 'unregistered') as lab, m.arm, m.kind,
        count(*) as n_models,
        sum(m.n) as n,
        sum(m.n_correct) as n_correct,
        avg(m.accuracy) as accuracy_macro,
        sum(m.n_reported) as n_reported,
        sum(m.n_correct_reported) as n_correct_reported
    from per_model as m
    left join registry as r using (model)
    group by all
)

select
    lab, arm, kind, n_models, n, n_correct,
    n_correct::double / n as accuracy,
    {{ wilson_low('n_correct', 'n') }} as ci_low,
    {{ wilson_high('n_correct', 'n') }} as ci_high,
    n_reported, n_correct_reported,
    case when n_reported > 0 then n_correct_reported::double / n_reported end as accuracy_reported,
    n_correct::double / n as accuracy_micro,
    accuracy_macro,
    'micro' as accuracy_average
from rolled
