"""The two raw tables a harness import writes, and a buffer that turns records into their shards.

`benchmark_samples`: one row per run × model × task × split × sample × epoch × score, with the value
as a double (`value_text` keeps what the harness wrote, e.g. inspect's "C"/"I"). `benchmark_scores`:
one row per score the harness reported. The scorer (inspect), filter (lm-eval) and perturbation
(HELM) of a metric have their own columns; `variant` holds evalhouse's arm in its own exports.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

_IDENTITY = [
    ("source", pa.string()),
    ("run_id", pa.string()),
    ("model", pa.string()),
    ("model_as_given", pa.string()),
    ("task", pa.string()),
    ("split", pa.string()),
    ("variant", pa.string()),
]
_SETTING = [
    ("scorer", pa.string()),
    ("filter", pa.string()),
    ("perturbation", pa.string()),
    ("metric", pa.string()),
]
SAMPLE_SCHEMA = pa.schema(
    _IDENTITY
    + [("sample_id", pa.string()), ("epoch", pa.int32())]
    + _SETTING
    + [
        ("value", pa.float64()),
        ("value_text", pa.string()),
        ("answer", pa.string()),
        ("target", pa.string()),
        ("input", pa.string()),
        ("output", pa.string()),
        ("input_tokens", pa.int64()),
        ("output_tokens", pa.int64()),
        ("total_tokens", pa.int64()),
        ("error", pa.string()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("source_member", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("imported_at", pa.timestamp("us", tz="UTC")),
    ]
)
SCORE_SCHEMA = pa.schema(
    _IDENTITY
    + _SETTING
    + [
        ("value", pa.float64()),
        ("stderr", pa.float64()),
        ("n_samples", pa.int64()),
        ("harness_version", pa.string()),
        ("source_file", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("imported_at", pa.timestamp("us", tz="UTC")),
    ]
)
# Sample rows buffered before they become one shard: bounds the memory of a 100,000-sample log.
CHUNK_ROWS = 20_000


class Columns:
    """Rows gathered column by column (cheaper than a list of dicts), cut into tables of `chunk` rows."""

    def __init__(self, schema: pa.Schema, constant: dict[str, Any], chunk: int = CHUNK_ROWS):
        self.schema, self.constant, self.chunk = schema, constant, chunk
        self.names = [n for n in schema.names if n not in constant]
        self.columns: dict[str, list] = {n: [] for n in self.names}
        self.rows = 0

    def add(self, **values: Any) -> None:
        for name in self.names:
            self.columns[name].append(values.get(name))
        self.rows += 1

    @property
    def full(self) -> bool:
        return self.rows >= self.chunk

    def take(self) -> pa.Table:
        """The buffered rows as a table (the constant columns repeated), and an empty buffer."""
        n = self.rows
        arrays = []
        for field in self.schema:
            if field.name in self.constant:
                arrays.append(pa.array([self.constant[field.name]] * n, type=field.type))
            else:
                arrays.append(pa.array(self.columns[field.name], type=field.type))
        self.columns = {name: [] for name in self.names}
        self.rows = 0
        return pa.Table.from_arrays(arrays, schema=self.schema)
