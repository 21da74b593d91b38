"""res.jsonl (Dec 2025 onward): one JSON object per line, 35 keys, an arm's fields under its prefix.

All parsing happens in DuckDB over the batch's lines at once: decode (invalid UTF-8 becomes a
quarantined line), validate, pull every key out with one JSON parse per line. A key that is absent
or null is missing; a record with keys of an arm the warehouse does not know is quarantined whole,
so nothing is half-loaded.
"""
from __future__ import annotations

import duckdb
import pyarrow as pa

from .lines import Lines
from .records import ARMS, COLUMNS, REPLY, REPR

NAME = "legacy-res-jsonl"

CORE = {  # record column <- JSON key
    "request_id": "request_id",
    "model": "model",
    "seed": "seed",
    "run_id": "exp_id",
    "kind": "kind",
    "digit": "digit",
    "index_in_kind": "index_in_kind",
    "question": "question",
    "gold": "answer",
}
REQUIRED_CORE = ("model", "seed", "kind", "digit", "question", "answer")
ARM_KEYS = {  # record field <- key suffix
    "prompt": "question",
    "text": "answer",
    "correct": "correct",
    "parse_err": "parse_err",
    "status": "err_msg",
}
REQUIRED_ARM = ("question", "answer", "correct", "err_msg")
ARM_KEY = r"^(.+)_(question|answer|correct|err_msg|parse_err|reasoning)$"


def _keys() -> list[str]:
    keys = list(dict.fromkeys(CORE.values()))
    for arm in ARMS:
        keys += [f"{arm}_{suffix}" for suffix in ARM_KEYS.values() if not (arm == "code" and suffix == "parse_err")]
    return keys


KEYS = _keys()


def lines_table(batch: list[tuple[int, Lines]]) -> pa.Table:
    """The batch's lines as one Arrow table (file index, line number, bytes, cut-off flag)."""
    chunks = []
    for file_idx, lines in batch:
        n = len(lines.numbers)
        cut = [False] * n
        if lines.unterminated and n:
            cut[-1] = True
        chunks.append(
            pa.table(
                {
                    "file_idx": pa.array([file_idx] * n, pa.int32()),
                    "line": lines.numbers,
                    "blob": lines.data,
                    "cut": pa.array(cut, pa.bool_()),
                }
            )
        )
    return pa.concat_tables(chunks) if chunks else pa.table({"file_idx": [], "line": [], "blob": [], "cut": []})


def load(con: duckdb.DuckDBPyConnection, batch: list[tuple[int, Lines]], target: str) -> None:
    """Create table `target` (record layout) from the batch's res.jsonl lines."""
    con.register("jsonl_lines", lines_table(batch))
    con.execute(f"create or replace temp table {target} as {_sql()}")
    con.unregister("jsonl_lines")


def _v(key: str) -> str:
    return f"v[{KEYS.index(key) + 1}]"


def _sql() -> str:
    paths = ", ".join(f"'$.\"{k}\"'" for k in KEYS)
    missing_core = ", ".join(f"case when {_v(k)} is null then '{k}' end" for k in REQUIRED_CORE)
    arm_present = {arm: " or ".join(f"{_v(f'{arm}_{s}')} is not null" for s in REQUIRED_ARM) for arm in ARMS}
    missing_arm = ", ".join(
        f"case when ({arm_present[arm]}) and {_v(f'{arm}_{s}')} is null then '{arm}_{s}' end"
        for arm in ARMS
        for s in REQUIRED_ARM
    )
    known_arms = ", ".join(f"'{a}'" for a in ARMS)
    select = {
        "file_idx": "file_idx",
        "line": "line",
        "source_row": "null::varchar",
        **{col: _v(key) for col, key in CORE.items()},
    }
    for arm in ARMS:
        for field, suffix in ARM_KEYS.items():
            key = f"{arm}_{suffix}"
            select[f"{arm}_{field}"] = _v(key) if key in KEYS else "null::varchar"
        select[f"{arm}_mode"] = f"'{REPR if arm == 'code' else REPLY}'"
    select.update(code_exit_code="null::varchar", code_stderr="null::varchar", code_latency_ms="null::varchar")
    select["defect"] = "defect"
    select["raw"] = "null::varchar"
    columns = ",\n        ".join(f"{expr} as {col}" for col, expr in select.items())
    assert list(select) == COLUMNS
    return f"""
    with decoded as (
        select file_idx, line, cut, try(decode(blob)) as text from jsonl_lines
    ),
    valid as (
        select *, coalesce(json_valid(text), false) as ok from decoded
    ),
    objects as (
        select *, case when ok then json_type(text) = 'OBJECT' else false end as is_object from valid
    ),
    parsed as (
        select *,
            case when is_object then json_extract_string(text, [{paths}]) end as v,
            case when is_object then
                list_filter(json_keys(text), k -> regexp_matches(k, '{ARM_KEY}')
                                               and regexp_extract(k, '{ARM_KEY}', 1) not in ({known_arms}))
            end as foreign_keys
        from objects
        where text is null or ok or trim(text, ' ' || chr(9) || chr(10) || chr(13)) <> ''
    ),
    judged as (
        select *,
            case
                when text is null then 'invalid UTF-8'
                when not ok and cut then 'truncated last line (the file ends in the middle of a record)'
                when not ok then 'invalid JSON'
                when v is null then 'not a JSON object'
                when len(foreign_keys) > 0 then
                    'unknown arm ' || array_to_string(list_distinct(list_transform(foreign_keys,
                        k -> '''' || regexp_extract(k, '{ARM_KEY}', 1) || '''')), ', ') ||
                    ' (keys ' || array_to_string(foreign_keys, ', ') || ')'
                when concat_ws(', ', {missing_core}, {missing_arm}) <> '' then
                    'missing keys: ' || concat_ws(', ', {missing_core}, {missing_arm})
            end as defect
        from parsed
    )
    select
        {columns}
    from judged
    """
