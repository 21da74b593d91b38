-- One row per lab × arm × kind. Two averages, both named: the micro average pools every response of
-- the lab's models (accuracy = accuracy_micro, with its Wilson interval, n and n_correct); the macro
-- average is the mean of the lab's per-model accuracies, so each model weighs the same.
-- A model missing from the registry rolls up under its own provider prefix ("mistralai/…" → "mistralai").
with per_model as (
    select * from {{ ref('acc_model_arm_kind') }}
),

registry as (
    select model, lab from {{ ref('model_registry') }}
),

labelled as (
    select m.*, coalesce(r.lab, split_part(m.model, '/', 1)) as lab, r.lab is not null as is_registered
    from per_model as m
    left join registry as r using (model)
),

rolled as (
    select
        lab, arm, kind,
        count(*) as n_models,
        bool_and(is_registered) as all_registered,
        sum(n) as n,
        sum(n_correct) as n_correct,
        avg(accuracy order by model) as accuracy_macro,
        sum(n_reported) as n_reported,
        sum(n_correct_reported) as n_correct_reported,
        avg(accuracy_reported order by model) as accuracy_reported_macro
    from labelled
    group by all
)

select
    lab, arm, kind, n_models, n, n_correct,
    n_correct::double / n as accuracy,
    {{ wilson_low('n_correct', 'n') }} as ci_low,
    {{ wilson_high('n_correct', 'n') }} as ci_high,
    n_reported, n_correct_reported,
    n_correct_reported::double / nullif(n_reported, 0) as accuracy_reported,
    'micro' as accuracy_average,
    n_correct::double / n as accuracy_micro,
    accuracy_macro,
    accuracy_reported_macro,
    all_registered
from rolled
