-- One row per model × arm × kind: accuracy over responses that came back, with a Wilson 95% interval.
-- API errors and arms that never ran are not counted; an unparseable answer counts as not correct.
-- The *_reported columns use the source's own verdict where one exists (imports).
with graded as (
    select * from {{ ref('graded_responses') }} where is_answered
),

counted as (
    select
        model, arm, kind,
        count(*) as n,
        count(*) filter (where is_correct) as n_correct,
        count(reported_correct) as n_reported,
        count(*) filter (where reported_correct) as n_correct_reported
    from graded
    group by all
)

select
    model, arm, kind, n, n_correct,
    n_correct::double / n as accuracy,
    {{ wilson_low('n_correct', 'n') }} as ci_low,
    {{ wilson_high('n_correct', 'n') }} as ci_high,
    n_reported, n_correct_reported,
    n_correct_reported::double / nullif(n_reported, 0) as accuracy_reported
from counted
