-- One row per response whose source verdict (reported_correct) differs from the warehouse's, with why.
with graded as (
    select * from {{ ref('graded_responses') }} where is_answered and reported_correct is not null
)

select
    response_id, source, model, kind, digit, arm, seed, problem_id,
    reported_correct, is_correct, answer, gold, source_gold,
    case
        when source_gold is not null and gold is not null and source_gold <> gold then
            case when length(gold) >= 16 and abs(try_cast(gold as hugeint) - try_cast(source_gold as hugeint)) < 1000
                 then 'lost_precision' else 'wrong_gold' end
        when verdict = 'parse_error' then 'unparseable_answer'
        else 'grading_rule'
    end as reason
from graded
where reported_correct <> is_correct
