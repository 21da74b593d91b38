-- The session settings and macros the batch statements use (run on every cursor: a cursor needs its own).
set enable_progress_bar = false;

-- The code arm's outcome from the legacy status: `ok,ok`/`ok` (res.csv), `no_code` ("No code recieved…"
-- in res.csv), `<typecheck>,<exec>` with exec `ok`, `timeout` or an exception text; the per-run CSVs' dict
-- gives ok/timeout/error directly.
create or replace temp macro legacy_exec_status(status) as (
    case
        when status in ('ok', 'ok,ok') then 'ok'
        when status = 'no_code' or lower(status) like 'no code%' then 'no_code'
        when status in ('timeout', 'error', 'unreadable') then status
        when split_part(status, ',', 2) = 'timeout' then 'timeout'
        when split_part(status, ',', 2) = 'ok' then 'ok'
        else 'error'
    end
);

-- A legacy verdict as written in the files (true/false, 1/0, 1.0/0.0); null when it is none of these.
create or replace temp macro legacy_bool(x) as (
    case lower(trim(x))
        when 'true' then true when '1' then true when '1.0' then true
        when 'false' then false when '0' then false when '0.0' then false
    end
);

-- Why a field is not an integer (null when it is one): `digit 'x' is not an integer`. `integer`, as the
-- columns are typed: a value beyond 32 bits is quarantined, not a failed import.
create or replace temp macro not_integer(label, x) as (
    case when try_cast(trim(x) as integer) is null
        then label || ' ' || coalesce('''' || x || '''', 'missing') || ' is not an integer' end
);

-- A legacy instance's id (see regrade.py): `<namespace>/<kind>/<digit>/<index>`.
create or replace temp macro legacy_problem_id(namespace, kind, digit, idx) as (
    namespace || '/' || kind || '/' || digit || '/' || idx
);

-- The collector's response id (evalhouse.vocabulary.response_id), for the first sample.
create or replace temp macro response_id(model, problem_id, arm, seed) as ({{ response_id }});
