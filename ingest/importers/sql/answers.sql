-- For every response (aid): its parsed answer, raw answer, parse error and the version of the reader
-- that read it. An execution that failed has no answer to read: its parse error says how it ended.
create or replace temp table answers as
select
    t.aid,
    a.parsed_answer,
    a.raw_answer,
    case
        when t.exec_status = 'no_code' then 'no_code'
        when t.exec_status = 'unreadable' then 'unreadable_answer'
        when coalesce(t.exec_status, 'ok') <> 'ok' then 'exec_failed'
        when t.text is null and t.mode = $repr then 'no_output'
        else a.parse_error
    end as parse_error,
    a.extractor_version
from arm_texts as t
left join read_answers as a on a.aid = t.aid
