-- One row per model × task × instance × epoch with its score, for every harness's instances and
-- evalhouse's own: run × model × task × variant × split × scorer × filter × perturbation × metric ×
-- instance × epoch. Binary metrics score 0 or 1, so the paired tests and the GLMM compare models on the
-- same items (model A against model B on the same arc_easy instances).
with harness as (
    select
        source, run_id, model, task, variant, split, scorer, filter, perturbation, metric,
        sample_id as instance_id, epoch, value as score, value_text, answer, target, input, output,
        input_tokens, output_tokens, error
    from {{ ref('stg_benchmark_samples') }}
    where value is not null
),

-- evalhouse's own responses: per instance asked (model, problem, seed, sample) and arm, the share graded
-- correct of those that came back (1 or 0; a fraction only when an import stored a response twice)
asked as (
    {%- for arm in arm_codes() %}
    select model, kind, '{{ arm }}' as arm, problem_id, seed, sample,
           {{ arm }}_answered as answered, {{ arm }}_correct as correct
    from {{ ref('graded_instances') }}
    where {{ arm }}_answered > 0
    {{ "union all" if not loop.last }}
    {%- endfor %}
),

own as (
    select
        'evalhouse' as source, 'evalhouse' as run_id, a.model, a.kind as task, a.arm as variant,
        cast(null as {{ sql_type('varchar') }}) as split, 'evalhouse' as scorer,
        cast(null as {{ sql_type('varchar') }}) as filter, cast(null as {{ sql_type('varchar') }}) as perturbation,
        'accuracy' as metric, a.problem_id as instance_id,
        cast(dense_rank() over (partition by a.model, a.arm, a.problem_id order by a.seed, a.sample) as integer) as epoch,
        cast(a.correct as double) / a.answered as score,
        cast(null as {{ sql_type('varchar') }}) as value_text,
        cast(null as {{ sql_type('varchar') }}) as answer,
        p.gold_answer as target, p.question as input,
        cast(null as {{ sql_type('varchar') }}) as output,
        cast(null as bigint) as input_tokens, cast(null as bigint) as output_tokens,
        cast(null as {{ sql_type('varchar') }}) as error
    from asked as a
    left join {{ ref('stg_problems') }} as p on p.problem_id = a.problem_id
)

select * from harness
union all
select * from own
