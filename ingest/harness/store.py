"""Where a harness file's rows go: shards of its run, written atomically, and its quarantine.

A file's rows land in `benchmark_samples/` and `benchmark_scores/` under `source=<s>/run_id=<run>/`,
in shards named after the file (`part-<file key>-<n>.parquet`): importing the same file again
writes the same names, so it replaces its rows rather than adding to them, and shards left over
from a longer earlier copy are removed. Sample rows are written a chunk at a time to hidden
temporary files and renamed into place only when the whole file has been read, so a failed or
killed import leaves the earlier state untouched.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from evalhouse.config import Paths
from evalhouse.ingest.importers.lines import show
from evalhouse.ingest.importers.output import BatchWriter, Origin, quarantine_shard, slug
from evalhouse.ingest.importers.schemas import QUARANTINE_SCHEMA

from .models import normalise
from .rows import SAMPLE_SCHEMA, SCORE_SCHEMA, Columns

SAMPLES = "benchmark_samples"
SCORES = "benchmark_scores"
RAW_SHOWN = 4096  # characters of a quarantined record kept


class BadRecord(Exception):
    """A record that cannot be loaded: quarantined with its file and line, the rest of the file goes on."""


# What the readers raise on a document of another shape than its format's (a list where an object was,
# text where a number was, JSON nested too deep to parse): a record that raises one is quarantined, a
# file whose header raises one is refused, never a traceback.
SHAPE_ERRORS = (AttributeError, TypeError, KeyError, IndexError, ValueError, ArithmeticError, RecursionError)


def unexpected(exc: BaseException) -> str:
    """The quarantine's reason for a record of an unexpected shape."""
    return f"unexpected structure ({type(exc).__name__}: {str(exc)[:200]})"


_FITS = {  # column type -> the Python values that fit it, and the range of an integer column
    pa.string(): ((str,), None),
    pa.int32(): ((int,), 2**31),
    pa.int64(): ((int,), 2**63),
    pa.float64(): ((int, float), None),
}


def column_fits(schema: pa.Schema) -> dict[str, tuple]:
    """Per checked column of `schema`: what `fit` compares a value with."""
    return {f.name: _FITS[f.type] for f in schema if f.type in _FITS}


def fit(fits: dict[str, tuple], values: dict[str, Any]) -> None:
    """Raise BadRecord when a value does not fit its column (checked before a row is kept, so a record is
    loaded whole or not at all, and a chunk's table is never refused for one value)."""
    for name, value in values.items():
        if value is None or name not in fits:
            continue
        kinds, bound = fits[name]
        if not isinstance(value, kinds) or isinstance(value, bool):
            raise BadRecord(f"{name} {str(value)[:60]!r} is a {type(value).__name__}, not {kinds[-1].__name__}")
        if bound is not None and not -bound <= value < bound:
            raise BadRecord(f"{name} {value} is out of range")
        if kinds == (str,) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise BadRecord(f"{name} holds a lone surrogate at character {exc.start}, not text") from None


SAMPLE_FITS, SCORE_FITS = column_fits(SAMPLE_SCHEMA), column_fits(SCORE_SCHEMA)


class BadFile(Exception):
    """A file recognised as a harness log that cannot be read at all (reported, nothing written)."""


@dataclass
class Counts:
    """One file's records: every record read is loaded or quarantined."""

    records_read: int = 0
    records_loaded: int = 0
    records_quarantined: int = 0
    sample_rows: int = 0
    score_rows: int = 0
    unknown_models: Counter = field(default_factory=Counter)
    quarantined: list[tuple[int | None, str]] = field(default_factory=list)

    @property
    def reconciles(self) -> bool:
        return self.records_read == self.records_loaded + self.records_quarantined


def _storable(text: str) -> str:
    """Text Parquet can hold: a lone surrogate (from a JSON escape) is written as its escape."""
    return text if text.isascii() else text.encode("utf-8", "backslashreplace").decode("utf-8")


def run_folder(data: Paths, table: str, source: str, run_id: str) -> Path:
    return data.raw / table / f"source={source}" / f"run_id={slug(run_id)}"


class RunSink:
    """Receives one file's samples, scores and bad records; `publish` makes them visible at once."""

    def __init__(
        self,
        data: Paths,
        source: str,
        origin: Origin,
        tick: Callable[[], object] | None = None,
        on_expect: Callable[[int], object] | None = None,
    ):
        self.data, self.source, self.origin, self.tick, self.on_expect = data, source, origin, tick, on_expect
        self.counts = Counts()
        self.writer = BatchWriter()
        self.now = datetime.now(timezone.utc)
        self.run_id: str | None = None
        self.model: str | None = None
        self._samples: Columns | None = None
        self._scores: Columns | None = None
        self._written: list[Path] = []
        self._quarantine: list[dict[str, Any]] = []
        self._parts = 0

    # -- what the readers call -------------------------------------------------------------------
    def begin(self, run_id: str, model_given: str, created_at: datetime | None = None) -> None:
        """The file's run and model; called once, before any row."""
        name = normalise(model_given or "unknown")
        if not name.known:
            self.counts.unknown_models[name.as_given] += 1
        constant = {
            "source": self.source,
            "run_id": run_id,
            "model": name.model,
            "model_as_given": name.as_given,
            "source_file": self.origin.file,
            "created_at": created_at,
            "imported_at": self.now,
        }
        try:
            fit(SAMPLE_FITS, constant)
        except BadRecord as exc:
            raise BadFile(f"its run or model cannot be stored: {exc}") from None
        self.run_id, self.model = run_id, name.model
        self._samples = Columns(SAMPLE_SCHEMA, constant)
        self._scores = Columns(SCORE_SCHEMA, constant)

    def sample(self, **values: Any) -> None:
        self.samples([values])

    def samples(self, rows: list[dict[str, Any]], **common: Any) -> None:
        """One record's sample rows, each with `common`: all kept, or BadRecord and none kept."""
        rows = [{**row, **common} for row in rows]
        for row in rows:
            fit(SAMPLE_FITS, row)
        for row in rows:
            self._samples.add(**row)
        self.counts.sample_rows += len(rows)

    def score(self, **values: Any) -> None:
        self.scores([values])

    def scores(self, rows: list[dict[str, Any]]) -> None:
        """Reported scores: all kept, or BadRecord and none kept."""
        for row in rows:
            fit(SCORE_FITS, row)
        for row in rows:
            self._scores.add(**row)
        self.counts.score_rows += len(rows)

    def expect(self, records: int) -> None:
        """How many records the file holds, when the reader knows before reading them (for the progress bar's ETA)."""
        if self.on_expect is not None:
            self.on_expect(records)

    def record_loaded(self) -> None:
        """One source record (a sample, a line) read and loaded; flushes a full chunk of sample rows."""
        self.counts.records_read += 1
        self.counts.records_loaded += 1
        if self.tick is not None:
            self.tick()
        if self._samples is not None and self._samples.full:
            self._flush_samples()

    def record_bad(self, line: int | None, reason: str, raw: str | bytes | None) -> None:
        self.counts.records_read += 1
        self.counts.records_quarantined += 1
        if self.tick is not None:
            self.tick()
        text = show(raw) if isinstance(raw, bytes) else _storable(raw or "")
        reason = _storable(reason)
        self._quarantine.append({"line": line, "reason": reason, "raw": text[:RAW_SHOWN]})
        self.counts.quarantined.append((line, reason))

    # -- writing ---------------------------------------------------------------------------------
    def _flush_samples(self) -> None:
        table = self._samples.take()
        if table.num_rows:
            self._add(SAMPLES, table)

    def _add(self, table_name: str, table: pa.Table) -> None:
        folder = run_folder(self.data, table_name, self.source, self.run_id)
        target = folder / f"part-{self.origin.key}-{self._parts:04d}.parquet"
        self._parts += 1
        self.writer.add(target, table, self.origin)
        self.writer.prepare()  # written (hidden) now: memory holds one chunk at a time
        self._written.append(target)

    def publish(self) -> list[Path]:
        """Rename the file's new shards into place, remove its shards from an earlier import that are not
        among them, and write its quarantine entries; returns the shards written."""
        if self.run_id is not None:
            self._flush_samples()
            scores = self._scores.take()
            if scores.num_rows:
                self._add(SCORES, scores)
        for stale in self._stale_shards():
            self.writer.remove(stale)
        shard = quarantine_shard(self.data, self.source, self.origin.key)
        if self._quarantine:
            rows = [
                dict(r, file=self.origin.file, importer=self.source, quarantined_at=self.now) for r in self._quarantine
            ]
            self.writer.add(shard, pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA))
        else:
            self.writer.remove(shard)
        self.writer.publish()
        return self._written

    def abort(self) -> None:
        self.writer.abort()

    def _stale_shards(self) -> list[Path]:
        """Shards of this file from an earlier import (any run: the file may have been rewritten)."""
        keep = set(self._written)
        found = []
        for table in (SAMPLES, SCORES):
            root = self.data.raw / table / f"source={self.source}"
            if root.exists():
                found += [p for p in root.glob(f"run_id=*/part-{self.origin.key}-*.parquet") if p not in keep]
        return found


def hashed_run_id(prefix: str, *parts: str | bytes) -> str:
    """A run id for a harness that records none: a hash of what identifies the file's run."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return f"{prefix}-{digest.hexdigest()[:16]}"
