"""res.jsonl (Dec 2025 onward): one JSON object per line, 35 keys, an arm's fields under its prefix.

All parsing happens in DuckDB over the batch's lines at once: decode (invalid UTF-8 becomes a
quarantined line), validate, pull every key out with one JSON parse per line. A key that is absent
or null is missing; a record with keys of an arm the warehouse does not know is quarantined whole,
so nothing is half-loaded.
"""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa

from evalhouse.vocabulary import ARM_CODES as ARMS

from .lines import Lines
from .records import REPLY, REPR
from .statements import SQL

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
            return con.execute(_sql(validate=False), PARAMETERS).to_arrow_table()
        except duckdb.Error:
            return con.execute(_sql(validate=True), PARAMETERS).to_arrow_table()
    finally:
        con.unregister("jsonl_lines")


def _sql(validate: bool) -> str:
    return SQL("res_jsonl.sql", validate=validate, **RECORD_KEYS)


def record_keys() -> dict[str, tuple]:
    """What the res.jsonl readers' SQL (`sql/_record_columns.sql`) needs to know of the keys."""
    return {
        "core": tuple(CORE.items()),
        "arm_keys": tuple(ARM_KEYS.items()),
        "keys": tuple(KEYS),
        "repr_arms": ("code",),
        "required_core": REQUIRED_CORE,
        "required_arm": REQUIRED_ARM,
    }


RECORD_KEYS = record_keys()
# The values the statement reads as bind parameters.
PARAMETERS = {
    "struct": json.dumps(dict.fromkeys(KEYS, "VARCHAR")),
    "key_in_text": KEY_IN_TEXT,
    "arm_key": ARM_KEY,
    "reply": REPLY,
    "repr": REPR,
}
