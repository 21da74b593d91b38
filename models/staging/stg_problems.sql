-- One row per problem instance (problem_id), from generated and imported problem files. A problem
-- described by several files keeps a description that has a gold answer (the rest of the row, then the
-- file name, break ties).
with source as (
    select * from {{ shards(source('raw', 'problems')) }}
),

ranked as (
    select
        problem_id,
        kind,
        coalesce(digit, 0) as digit,
        {{ adapter.quote('index') }},
        question,
        gold_answer,
        instance_json,
        row_number() over (
            partition by problem_id
            order by
                gold_answer asc nulls last, instance_json asc nulls last, question asc nulls last,
                kind asc nulls last, digit asc nulls last, filename asc
        ) as description_rank
    from source
)

select problem_id, kind, digit, {{ adapter.quote('index') }}, question, gold_answer, instance_json
from ranked
where description_rank = 1
