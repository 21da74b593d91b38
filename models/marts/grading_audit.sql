-- One row per source × model × kind × arm of imported responses: how many the warehouse regraded,
-- how many keep the source's verdict because their gold cannot be recomputed (source_verdict_only),
-- how many verdicts agree, and the disagreements by reason (see marts.grading_disagreements).
with graded as (
    select * from {{ ref('graded_responses') }}
    where is_answered and reported_correct is not null
),

disagreements as (
    select
        response_id,
        source,
        run_id,
        reason
    from {{ ref('grading_disagreements') }}
),

joined as (
    select
        g.*,
        d.reason
    from graded as g
    left join disagreements as d on g.response_id = d.response_id and g.source = d.source and g.run_id = d.run_id
)

select
    source,
    model,
    kind,
    arm,
    count(*) as n_imported,
    count(*) filter (where verdict_reason <> 'source_verdict_only') as n_regraded,
    count(*) filter (where verdict_reason = 'source_verdict_only') as n_source_verdict_only,
    count(*) filter (where reason is null) as n_agree,
    count(*) filter (where reason is not null) as n_disagree,
    count(*) filter (where verdict_reason <> 'source_verdict_only' and source_gold is not null and source_gold <> gold)
        as n_source_gold_differs,
    count(*) filter (where reason = 'wrong_gold') as n_wrong_gold,
    count(*) filter (where reason = 'lost_precision') as n_lost_precision,
    count(*) filter (where reason = 'answer_missing') as n_answer_missing,
    count(*) filter (where reason = 'unparseable_answer') as n_unparseable_answer,
    count(*) filter (where reason = 'source_parse_failure') as n_source_parse_failure,
    count(*) filter (where reason = 'source_type_check') as n_source_type_check,
    count(*) filter (where reason = 'answer_format') as n_answer_format,
    count(*) filter (where reason = 'other') as n_other,
    cast(count(*) filter (where is_correct) as double) / count(*) as accuracy,
    cast(count(*) filter (where reported_correct) as double) / count(*) as accuracy_reported
from joined
group by source, model, kind, arm
