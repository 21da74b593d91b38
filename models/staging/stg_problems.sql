-- One row per problem instance (problem_id), from generated and imported problem files. A problem
-- described by several files keeps the description that has a gold answer (the rest of the row breaks ties).
with source as (
    {{ read_raw(source('raw', 'problems'), [
        ('problem_id', 'varchar'), ('kind', 'varchar'), ('digit', 'integer'), ('index', 'integer'),
        ('question', 'varchar'), ('gold_answer', 'varchar'), ('instance_json', 'varchar')
    ]) }}
),

described as (
    select problem_id, kind, coalesce(digit, 0) as digit, {{ adapter.quote('index') }}, question, gold_answer, instance_json
    from source
)

{{ first_per('described',
    ['problem_id', 'kind', 'digit', adapter.quote('index'), 'question', 'gold_answer', 'instance_json'],
    partition_by='problem_id',
    order_by='gold_answer asc nulls last, instance_json asc nulls last, question asc nulls last, kind asc nulls last, digit asc nulls last, '
             ~ adapter.quote('index') ~ ' asc nulls last') }}
