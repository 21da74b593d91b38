"""The one layout every legacy format is read into before it becomes responses.

A source record is one row of a legacy file: one problem asked of one model under one seed, with a
block of fields per arm. Each reader fills these columns (all text, as the file had them, so type
checks happen once, in SQL, for every format); `defect` carries what the reader itself found wrong
(bad bytes, wrong field count, missing keys, unknown arm), and `raw` the record's text for the
quarantine.
"""

from __future__ import annotations

import pyarrow as pa

from evalhouse.vocabulary import ARM_CODES as ARMS

# How an arm's text holds its answer: a model reply with a JSON object in it, a value the legacy
# pipeline already extracted, or the Python repr of what executed code returned.
REPLY, VALUE, REPR = "reply", "value", "repr"

RECORD_FIELDS = [
    ("file_idx", pa.int32()),
    ("line", pa.int64()),
    ("source_row", pa.string()),
    ("request_id", pa.string()),
    ("model", pa.string()),
    ("seed", pa.string()),
    ("run_id", pa.string()),
    ("kind", pa.string()),
    ("digit", pa.string()),
    ("index_in_kind", pa.string()),
    ("question", pa.string()),
    ("gold", pa.string()),
]
ARM_FIELDS = [
    ("prompt", pa.string()),
    ("text", pa.string()),
    ("correct", pa.string()),
    ("parse_err", pa.string()),
    ("status", pa.string()),  # "" when the arm never ran
    ("mode", pa.string()),
]
CODE_FIELDS = [
    ("code_exit_code", pa.string()),
    ("code_stderr", pa.string()),
    ("code_latency_ms", pa.string()),
]
TAIL_FIELDS = [
    ("defect", pa.string()),
    ("raw", pa.string()),
]

RECORD_SCHEMA = pa.schema(
    RECORD_FIELDS + [(f"{arm}_{name}", kind) for arm in ARMS for name, kind in ARM_FIELDS] + CODE_FIELDS + TAIL_FIELDS
)
COLUMNS = [f.name for f in RECORD_SCHEMA]


def records_table(columns: dict[str, list]) -> pa.Table:
    """An Arrow table in RECORD_SCHEMA from column lists; absent columns are null."""
    length = len(next(iter(columns.values()))) if columns else 0
    arrays = [_array(columns[f.name], f.type) if f.name in columns else pa.nulls(length, f.type) for f in RECORD_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=RECORD_SCHEMA)


def _array(values: list, kind: pa.DataType) -> pa.Array:
    try:
        return pa.array(values, type=kind)
    except UnicodeEncodeError:  # undecodable bytes outside a record (a header name in a defect): shown as U+FFFD
        return pa.array([_storable(v) if isinstance(v, str) else v for v in values], type=kind)


def _storable(text: str) -> str:
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate no byte was escaped to
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
