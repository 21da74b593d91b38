-- One row per run × model × task × variant × split × scorer × filter × perturbation × metric: every score
-- a harness reported (value, stderr and n_samples as reported) and evalhouse's own accuracy per model ×
-- kind (task) × arm (variant), pooled over its runs as marts.acc_model_arm_kind is. n_instances counts
-- the instance rows stored for the score in marts.benchmark_instances.
with reported as (
    select
        source,
        run_id,
        model,
        task,
        variant,
        split,
        scorer,
        filter,
        perturbation,
        metric,
        value,
        stderr,
        n_samples,
        harness_version,
        created_at
    from {{ ref('stg_benchmark_scores') }}
),

-- evalhouse's stderr from its instances: the accuracy is a ratio of sums over problems (k_i correct of
-- n_i answered), so its standard error is clustered on the problem, from integer sums only:
-- SE² = I/(I-1) · Σ(k_i − p·n_i)² / N², with Σ(k_i − p·n_i)² = Σk_i² − 2pΣk_i·n_i + p²Σn_i².
-- With one response per problem this is lm-eval's and inspect's sqrt(p(1-p)/(N-1)).
clustered as (
    select
        model,
        kind,
        arm,
        count(*) as n_problems,
        sum(n) as n_rows,
        sum(n_correct * n_correct) as kk,
        sum(n_correct * n) as kn,
        sum(n * n) as nn
    from {{ ref('acc_model_arm_instance') }}
    group by model, kind, arm
),

own as (
    select
        'evalhouse' as source,
        'evalhouse' as run_id,
        acc.model,
        acc.kind as task,
        acc.arm as variant,
        cast(null as string) as split,
        'evalhouse' as scorer,
        cast(null as string) as filter,
        cast(null as string) as perturbation,
        'accuracy' as metric,
        acc.accuracy as value,
        case when clustered.n_problems > 1 then sqrt(greatest(
            0.0e0,
            cast(clustered.n_problems as double) / (clustered.n_problems - 1)
            * (clustered.kk - 2 * acc.accuracy * clustered.kn + acc.accuracy * acc.accuracy * clustered.nn)
            / (cast(clustered.n_rows as double) * clustered.n_rows)
        )) end as stderr,
        acc.n as n_samples,
        cast(null as string) as harness_version,
        cast(null as timestamp) as created_at
    from {{ ref('acc_model_arm_kind') }} as acc
    left join clustered on acc.model = clustered.model and acc.kind = clustered.kind and acc.arm = clustered.arm
),

scores as (
    select * from reported
    union all
    select * from own
),

instances as (
    select
        source,
        run_id,
        model,
        task,
        coalesce(variant, '') as variant_key,
        coalesce(split, '') as split_key,
        coalesce(scorer, '') as scorer_key,
        coalesce(filter, '') as filter_key,
        coalesce(perturbation, '') as perturbation_key,
        metric,
        count(*) as n_instances
    from {{ ref('benchmark_instances') }}
    group by
        source, run_id, model, task, coalesce(variant, ''), coalesce(split, ''), coalesce(scorer, ''),
        coalesce(filter, ''), coalesce(perturbation, ''), metric
)

select
    s.source,
    s.run_id,
    s.model,
    s.task,
    s.variant,
    s.split,
    s.scorer,
    s.filter,
    s.perturbation,
    s.metric,
    s.value,
    s.stderr,
    s.n_samples,
    coalesce(i.n_instances, 0) as n_instances,
    s.harness_version,
    s.created_at
from scores as s
left join instances as i
    on
        s.source = i.source and s.run_id = i.run_id and s.model = i.model and s.task = i.task
        and coalesce(s.variant, '') = i.variant_key and coalesce(s.split, '') = i.split_key
        and coalesce(s.scorer, '') = i.scorer_key and coalesce(s.filter, '') = i.filter_key
        and coalesce(s.perturbation, '') = i.perturbation_key and s.metric = i.metric
