-- For each record that passed: model id, typed seed and digit, run, instance and problem id.
create or replace temp table identity as
with typed as (
    select
        c.rid,
        r.file_idx,
        r.line,
        f.importer,
        f.namespace,
        f.path,
        m.model_id,
        m.model_given,
        cast(trim(r.seed) as integer) as seed_i,
        cast(trim(r.digit) as integer) as digit_i,
        trim(r.kind) as kind_t,
        coalesce(nullif(trim(r.run_id), ''), f.folder_run) as run,
        coalesce(try_cast(nullif(trim(r.index_in_kind), '') as integer), c.position_in_kind::integer) as idx
    from records as r
    join checks as c on r.rid = c.rid
    join files as f on f.file_idx = r.file_idx
    join model_map as m on m.model_given = trim(r.model)
    where c.reason is null
)

select
    *,
    legacy_problem_id(namespace, kind_t, digit_i, idx) as problem_id,
    -- a run id holds its start time: run_20251201_120000
    try_strptime(regexp_extract(run, '(\d{8}_\d{6})', 1), '%Y%m%d_%H%M%S') as created_at
from typed
