-- The batch's instances, one row each (their gold is recomputed in Python, from the question).
select
    l.problem_id,
    l.kind_t,
    l.digit_i,
    l.idx,
    any_value(nullif(r.question, '')) as question,
    any_value(l.namespace) as namespace
from identity as l
join records as r on r.rid = l.rid
group by l.problem_id, l.kind_t, l.digit_i, l.idx
order by l.problem_id
