"""Parquet shards: the one way rows reach `data/raw/`.

A shard is complete or absent, never torn: it is written with the project's one atomic writer
(`evalhouse.files.write_atomic`: a hidden temporary file in the same folder, flushed, renamed into place).
Readers glob `*.parquet`, so a temporary file left by a killed process is never read, and
`clean_leftovers` removes it. On a full disk a write raises `DiskFull` and leaves no temporary file.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from evalhouse.files import clean_leftovers, fsync_path
from evalhouse.files import write_atomic as write_file

from .journal import Segment, next_sequence, shard_stem

__all__ = [
    "REQUIRED_COLUMNS",
    "RESPONSE_SCHEMA",
    "ShardWriter",
    "clean_leftovers",
    "fsync_path",
    "table_from_rows",
    "write_shard",
]

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
        ("extractor_version", pa.string()),
        ("verdict", pa.string()),
        ("verdict_reason", pa.string()),
        ("exec_status", pa.string()),
        ("exec_exit_code", pa.int32()),
        ("exec_limit", pa.string()),
        ("exec_stderr", pa.string()),
        ("exec_isolation", pa.string()),  # the sandbox cage: namespaces | userns | landlock | basic, +seccomp
        ("reasoning", pa.string()),
        ("reasoning_tokens", pa.int64()),
        ("native_finish_reason", pa.string()),
        ("generation_id", pa.string()),
        ("provider_name", pa.string()),
    ]
)

REQUIRED_COLUMNS = [f.name for f in RESPONSE_SCHEMA][:17]


def table_from_rows(rows: Iterable[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    rows = list(rows)
    return pa.table({f.name: pa.array([r.get(f.name) for r in rows], type=f.type) for f in schema}, schema=schema)


def write_shard(table: pa.Table, folder: Path | str, stem: str | None = None) -> Path | str:
    """Write one shard atomically and return its path (an s3:// folder gets one atomic PUT)."""
    if isinstance(folder, str) and "://" in folder:
        from evalhouse.storage import write_shard as put_shard

        return put_shard(table, folder, stem)
    final = Path(folder) / f"{stem or f'part-{uuid.uuid4().hex}'}.parquet"
    return write_file(final, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


class ShardWriter:
    """Buffers rows and writes a shard every `every` rows and at close.

    With `journal=True` each row is first appended to a write-ahead journal segment (see `journal.py`),
    so a killed process loses no row it was handed. Shards are then written by one background thread,
    named after their segment, while the event loop goes on; if the previous shard is still being written
    the rows simply stay journaled a little longer. Shards go to `target` when given (an s3:// folder:
    the journal stays in the local `folder`, each shard is one PUT), else beside the journal.

    A write that fails (a full disk) fails the next `add`, `flush` or `close`; the segments whose shard
    could not be written are left on disk, unlocked, for the next run to recover.
    """

    def __init__(
        self,
        folder: Path,
        schema: pa.Schema = RESPONSE_SCHEMA,
        every: int = 500,
        journal: bool = False,
        target: Path | str | None = None,
    ):
        self.folder, self.schema, self.every, self.journal = folder, schema, max(1, every), journal
        self.target = target or folder
        self.buffer: list[Mapping[str, Any]] = []
        self.written = 0
        self.shards: list[Path | str] = []
        self._seq = next_sequence(folder, self.target) if journal else 0
        self._segment: Segment | None = None
        self._pending: Future | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="shard-writer") if journal else None

    def add(self, row: Mapping[str, Any]) -> None:
        if self.journal:
            if self._segment is None:
                self._segment = Segment(self.folder, self._seq)
                self._seq += 1
            self._segment.append(row)
        self.buffer.append(row)
        if len(self.buffer) >= self.every:
            self.flush(wait=False)

    def flush(self, wait: bool = True) -> None:
        """Write the buffered rows as a shard (in the background unless `wait`)."""
        if not self.buffer:
            return
        if self._pool is None:
            self._write(self.buffer, write_shard(table_from_rows(self.buffer, self.schema), self.target))
            self.buffer = []
            return
        if self._pending is not None:
            if not wait and not self._pending.done():
                return
            self._pending.result()  # re-raises a failed write here, in the caller
        rows, segment = self.buffer, self._segment
        self.buffer, self._segment = [], None
        self._pending = self._pool.submit(self._write_segment, rows, segment)
        if wait:
            self._pending.result()

    def _write_segment(self, rows: list[Mapping[str, Any]], segment: Segment) -> None:
        try:
            path = write_shard(table_from_rows(rows, self.schema), self.target, shard_stem(segment.seq))
        except BaseException:
            segment.close()
            raise
        segment.remove()
        self._write(rows, path)

    def _write(self, rows: list[Mapping[str, Any]], path: Path | str) -> None:
        self.shards.append(path)
        self.written += len(rows)

    def close(self) -> None:
        try:
            self.flush(wait=True)
            if self._pending is not None:
                self._pending.result()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
            if self._segment is not None:  # its shard was never written: the rows wait in the journal
                self._segment.close()
                self._segment = None

    def __enter__(self) -> ShardWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
