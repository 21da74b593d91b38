"""Parquet shards: the one way rows reach `data/raw/`.

A shard is complete or absent, never torn: rows are written to a hidden temporary file in the same
folder, flushed to disk, then renamed into place. Readers glob `*.parquet`, so a temporary file left by a
killed process is never read, and `clean_leftovers` removes it.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

# Required by the contract, in this order; then the collector's own columns.
RESPONSE_SCHEMA = pa.schema(
    [
        ("response_id", pa.string()),
        ("run_id", pa.string()),
        ("source", pa.string()),
        ("model", pa.string()),
        ("problem_id", pa.string()),
        ("kind", pa.string()),
        ("digit", pa.int32()),
        ("arm", pa.string()),
        ("seed", pa.int32()),
        ("prompt", pa.string()),
        ("response_text", pa.string()),
        ("gold_answer", pa.string()),
        ("reported_correct", pa.bool_()),
        ("error", pa.string()),
        ("latency_ms", pa.float64()),
        ("prompt_tokens", pa.int64()),
        ("completion_tokens", pa.int64()),
        # evalhouse's own columns
        ("sample", pa.int32()),
        ("attempt", pa.int32()),
        ("created_at", pa.timestamp("us", tz="UTC")),
        ("prompt_version", pa.string()),
        ("temperature", pa.float64()),
        ("max_tokens", pa.int32()),
        ("provider_model", pa.string()),
        ("finish_reason", pa.string()),
        ("cost", pa.float64()),
        ("error_class", pa.string()),
        ("status_code", pa.int32()),
        ("parsed_answer", pa.string()),
        ("parse_error", pa.string()),
        ("verdict", pa.string()),
        ("verdict_reason", pa.string()),
        ("exec_status", pa.string()),
        ("exec_exit_code", pa.int32()),
        ("exec_limit", pa.string()),
        ("exec_stderr", pa.string()),
    ]
)

REQUIRED_COLUMNS = [f.name for f in RESPONSE_SCHEMA][:17]


def table_from_rows(rows: Iterable[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    rows = list(rows)
    return pa.table({f.name: pa.array([r.get(f.name) for r in rows], type=f.type) for f in schema}, schema=schema)


def write_atomic(table: pa.Table, folder: Path, stem: str | None = None) -> Path:
    """Write one shard atomically and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = stem or f"part-{uuid.uuid4().hex}"
    final = folder / f"{stem}.parquet"
    tmp = folder / f".{stem}.parquet.tmp-{os.getpid()}"
    pq.write_table(table, tmp, compression="zstd")
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    _fsync_dir(folder)
    return final


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def clean_leftovers(root: Path) -> int:
    """Remove temporary files that killed writers left behind; returns how many."""
    removed = 0
    if root.exists():
        for tmp in root.rglob(".*.parquet.tmp-*"):
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


class ShardWriter:
    """Buffers rows and writes a shard every `every` rows and at close."""

    def __init__(self, folder: Path, schema: pa.Schema = RESPONSE_SCHEMA, every: int = 500):
        self.folder, self.schema, self.every = folder, schema, every
        self.buffer: list[Mapping[str, Any]] = []
        self.written = 0
        self.shards: list[Path] = []

    def add(self, row: Mapping[str, Any]) -> None:
        self.buffer.append(row)
        if len(self.buffer) >= self.every:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        self.shards.append(write_atomic(table_from_rows(self.buffer, self.schema), self.folder))
        self.written += len(self.buffer)
        self.buffer = []

    def close(self) -> None:
        self.flush()

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
