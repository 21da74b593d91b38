-- One row per lab × arm × kind. Two averages, both named: the micro average pools every response of the
-- lab's models (accuracy = accuracy_micro, with n, n_correct and the Wilson interval, whose unit is the
-- instance: a problem answered by several of the lab's models counts once); the macro average is the
-- mean of the lab's per-model accuracies, so each model weighs the same.
with instances as (
    select * from {{ ref('acc_model_arm_instance') }}
),

per_model as (
    select * from {{ ref('acc_model_arm_kind') }}
),

models as (
    select * from {{ ref('int_models') }}
),

lab_instances as (
    -- one row per lab × arm × kind × instance: the lab's models' responses to it pooled
    select
        lab,
        arm,
        kind,
        problem_id,
        sum(n) as n,
        sum(n_correct) as n_correct,
        sum(n_reported) as n_reported,
        sum(n_correct_reported) as n_correct_reported
    from instances
    group by lab, arm, kind, problem_id
),

micro as (
    select
        lab,
        arm,
        kind,
        count(*) as n_instances,
        cast(sum(n) as bigint) as n,
        cast(sum(n_correct) as bigint) as n_correct,
        cast(sum(n_reported) as bigint) as n_reported,
        cast(sum(n_correct_reported) as bigint) as n_correct_reported
    from lab_instances
    group by lab, arm, kind
),

macro as (
    -- averaged as decimals: exact sums, so the figure does not depend on the order rows arrive in
    select
        models.lab,
        per_model.arm,
        per_model.kind,
        count(*) as n_models,
        bool_and(models.is_registered) as all_registered,
        cast(avg(cast(per_model.accuracy as decimal(38, 17))) as double) as accuracy_macro,
        cast(avg(cast(per_model.accuracy_reported as decimal(38, 17))) as double) as accuracy_reported_macro
    from per_model
    inner join models on per_model.model = models.model
    group by models.lab, per_model.arm, per_model.kind
)

select
    micro.lab,
    micro.arm,
    micro.kind,
    macro.n_models,
    micro.n,
    micro.n_correct,
    cast(micro.n_correct as double) / micro.n as accuracy,
    {{ wilson_low('micro.n_correct', 'micro.n', 'micro.n_instances') }} as ci_low,
    {{ wilson_high('micro.n_correct', 'micro.n', 'micro.n_instances') }} as ci_high,
    micro.n_reported,
    micro.n_correct_reported,
    cast(micro.n_correct_reported as double) / nullif(micro.n_reported, 0) as accuracy_reported,
    'micro' as accuracy_average,
    cast(micro.n_correct as double) / micro.n as accuracy_micro,
    macro.accuracy_macro,
    macro.accuracy_reported_macro,
    macro.all_registered,
    micro.n_instances
from micro
inner join macro on micro.lab = macro.lab and micro.arm = macro.arm and micro.kind = macro.kind
