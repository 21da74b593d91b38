-- One row per problem instance (problem_id), from generated and imported problem files. A problem
-- described by several files keeps the description that has a gold answer.
with source as (
    {{ read_raw(source('raw', 'problems'), [
        ('problem_id', 'varchar'), ('kind', 'varchar'), ('digit', 'integer'), ('index', 'integer'),
        ('question', 'varchar'), ('gold_answer', 'varchar'), ('instance_json', 'varchar')
    ]) }}
)

select problem_id, kind, coalesce(digit, 0) as digit, "index", question, gold_answer, instance_json
from source
qualify row_number() over (partition by problem_id order by gold_answer nulls last, instance_json) = 1
