-- The responses' narrow columns (their text is gathered by Arrow afterwards), in no order. The arms that
-- ran are first laid out one per row (a narrow union); every column is then computed once over them,
-- which keeps the statement small to plan.
with ran as (
{% for arm in arms %}
    select
        rid,
        {{ loop.index0 }}::bigint as arm_no,
        {{ name(arm) }} as arm,
        {{ ident(arm, 'status') }} as status,
        {{ ident(arm, 'correct') }} as correct,
        {{ ident(arm, 'parse_err') }} as parse_err
    from records
    where coalesce({{ ident(arm, 'status') }}, '') <> ''
{% if not loop.last %}
    union all
{% endif %}
{% endfor %}
)

select
    response_id(l.model_id, l.problem_id, a.arm, l.seed_i) as response_id,
    l.run as run_id,
    l.importer as source,
    l.model_id as model,
    l.problem_id,
    l.kind_t as kind,
    l.digit_i as digit,
    a.arm,
    l.seed_i as seed,
    l.rid,
    a.arm_no,
    nullif(r.gold, '') as gold_answer,
    legacy_bool(a.correct) as reported_correct,
    null as error,
    case when a.arm_no = $code_arm then try_cast(r.code_latency_ms as double) end as latency_ms,
    null as prompt_tokens,
    null as completion_tokens,
    0 as sample,
    l.created_at,
    l.importer as prompt_version,
    x.parsed_answer,
    x.parse_error,
    x.extractor_version,
    case
        when pr.gold_answer is null then case when legacy_bool(a.correct) then 'correct' else 'wrong' end
        when x.parsed_answer is null then 'parse_error'
        when x.parsed_answer = pr.gold_answer then 'correct'
        else 'wrong'
    end as verdict,
    case
        when pr.gold_answer is null then $source_verdict_only
        when x.parsed_answer is null then x.parse_error
        when x.parsed_answer = pr.gold_answer then 'ok'
        else 'wrong_value'
    end as verdict_reason,
    case when a.arm_no = $code_arm then legacy_exec_status(a.status) end as exec_status,
    case when a.arm_no = $code_arm then try_cast(r.code_exit_code as integer) end as exec_exit_code,
    case when a.arm_no = $code_arm then coalesce(
        r.code_stderr,
        case when legacy_exec_status(a.status) = 'error' then regexp_extract(a.status, '^[^,]*,(.*)$', 1) end
    ) end as exec_stderr,
    l.model_given as model_as_given,
    l.idx as index_in_kind,
    x.raw_answer,
    l.file_idx,
    l.path as source_file,
    l.line as source_line,
    r.source_row,
    nullif(r.request_id, '') as source_request_id,
    a.status as source_status,
    legacy_bool(a.parse_err) as source_parse_failed
from ran as a
join identity as l on l.rid = a.rid
join records as r on r.rid = a.rid
join answers as x on x.aid = a.rid * {{ arms | length }} + a.arm_no
left join batch_problems as pr on pr.problem_id = l.problem_id
