"""res.jsonl (Dec 2025 onward): one JSON object per line, 35 keys, an arm's fields under its prefix.

All parsing happens in DuckDB over the batch's lines at once: decode (invalid UTF-8 becomes a
quarantined line), validate, pull every key out with one JSON parse per line. A key that is absent
or null is missing; a record with keys of an arm the warehouse does not know is quarantined whole,
so nothing is half-loaded.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pyarrow as pa

from evalhouse.vocabulary import ARM_CODES as ARMS

from .lines import Lines
from .records import COLUMNS, REPLY, REPR

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
# An arm's key as it appears in a line: a quote that no backslash escapes can only open or close a
# key or a string, so inside string values this never matches. Cheaper than listing the keys.
KEY_IN_TEXT = r'"([A-Za-z0-9_]+_(?:question|answer|correct|err_msg|parse_err|reasoning))"\s*:'


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
                    "text": lines.text,
                    "cut": pa.array(cut, pa.bool_()),
                }
            )
        )
    return pa.concat_tables(chunks) if chunks else pa.table({"file_idx": [], "line": [], "text": [], "cut": []})


def load(con: duckdb.DuckDBPyConnection, batch: list[tuple[int, Lines]]) -> pa.Table:
    """The batch's res.jsonl lines as records (record layout, as Arrow).

    The fast statement parses each line once for its values (into a struct) and once for its keys.
    It fails as a whole on the first line that is not a JSON object; the batch is then read again
    with every line validated first, which costs two more parses per line, only for batches with
    broken lines.
    """
    con.register("jsonl_lines", lines_table(batch))
    try:
        try:
            return con.execute(_sql(validate=False)).to_arrow_table()
        except duckdb.Error:
            return con.execute(_sql(validate=True)).to_arrow_table()
    finally:
        con.unregister("jsonl_lines")


def _sql(validate: bool) -> str:
    struct = "{" + ", ".join(f'"{k}": "VARCHAR"' for k in KEYS) + "}"
    missing_core = ", ".join(f"case when v.{_q(k)} is null then '{k}' end" for k in REQUIRED_CORE)
    arm_present = {arm: " or ".join(f"v.{_q(f'{arm}_{s}')} is not null" for s in REQUIRED_ARM) for arm in ARMS}
    missing_arm = ", ".join(
        f"case when ({arm_present[arm]}) and v.{_q(f'{arm}_{s}')} is null then '{arm}_{s}' end"
        for arm in ARMS
        for s in REQUIRED_ARM
    )
    known_arms = ", ".join(f"'{a}'" for a in ARMS)
    arm_of = f"regexp_extract(k, '{ARM_KEY}', 1)"
    select = {"file_idx": "file_idx", "line": "line", **record_columns(lambda key: f"v.{_q(key)}")}
    select["defect"] = "defect"
    select["raw"] = "null::varchar"
    columns = ",\n        ".join(f"{expr} as {col}" for col, expr in select.items())
    assert list(select) == COLUMNS
    # Unvalidated, every line is taken for a JSON object (the statement fails on one that is not).
    ok = "case when json_valid(text) then json_type(text) = 'OBJECT' else false end" if validate else "text is not null"
    return f"""
    with checked as (
        select file_idx, line, cut, text, coalesce({ok}, false) as ok from jsonl_lines
    ),
    parsed as (
        select *,
            case when ok then json_transform(text, '{struct}') end as v,
            case when ok then
                list_filter(regexp_extract_all(text, '{KEY_IN_TEXT}', 1), k -> {arm_of} not in ({known_arms}))
            end as foreign_keys
        from checked
    ),
    judged as (
        select *,
            case
                when text is null then 'invalid UTF-8'
                when not ok and cut then 'truncated last line (the file ends in the middle of a record)'
                when not ok and json_valid(text) then 'not a JSON object'
                when not ok then 'invalid JSON'
                when len(foreign_keys) > 0 then
                    'unknown arm ' || array_to_string(list_distinct(list_transform(foreign_keys,
                        k -> '''' || {arm_of} || '''')), ', ') ||
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


def record_columns(value: Callable[[str], str]) -> dict[str, str]:
    """The record columns read from a res.jsonl object, `value(key)` being the SQL that reads one key.

    From `source_row` to the code arm's execution columns, in COLUMNS order: both readers
    (this one and jsonl_fast) select them the same way."""
    select = {"source_row": "null::varchar", **{col: value(key) for col, key in CORE.items()}}
    for arm in ARMS:
        for field, suffix in ARM_KEYS.items():
            key = f"{arm}_{suffix}"
            select[f"{arm}_{field}"] = value(key) if key in KEYS else "null::varchar"
        select[f"{arm}_mode"] = f"'{REPR if arm == 'code' else REPLY}'"
    select.update(code_exit_code="null::varchar", code_stderr="null::varchar", code_latency_ms="null::varchar")
    return select


def _q(key: str) -> str:
    return f'"{key}"'
