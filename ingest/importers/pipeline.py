"""Importing legacy result files: find them, plan batches, run two at a time, sum up.

Files are taken in batches of a bounded size (`batch.Batch`). Two batches are in flight: while one
waits on DuckDB or the Parquet writer, the other uses the other core. Each batch ends with its shards
published, so an interrupted import loses at most the batches in progress, and importing again
resumes: files already imported unchanged are skipped.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
from tqdm import tqdm

from evalhouse.config import Paths
from evalhouse.ingest.shards import clean_leftovers
from evalhouse.ingest.store import REPAIR_HINT
from evalhouse.registry import resolve
from evalhouse.vocabulary import response_id

from .batch import Batch, Publishing, SourceFile, prepare
from .detect import FORMATS, RUN_CSV, Detected, discover
from .lines import show
from .output import BatchWriter, Origin, file_key, quarantine_shard
from .schemas import IMPORTER_VERSION, QUARANTINE_SCHEMA
from .statements import SQL
from .summary import FileResult, ImportSummary

BATCH_BYTES = 64 << 20


class LegacyImportError(Exception):
    """A user's mistake in what to import (reported as one `Error:` line)."""


@dataclass(frozen=True)
class Options:
    model: str | None = None  # --model, for files that record none
    progress: bool = True
    batch_bytes: int = BATCH_BYTES
    memory_limit: str = "2GB"
    # DuckDB threads per statement. One: the cores are used by the batches in flight, and a batch's
    # statements are too short for DuckDB's own parallelism to pay (measured: more CPU, not less time).
    threads: int | None = 1
    workers: int = 2  # batches in flight, each on its own core


def import_paths(paths: Iterable[Path], data: Paths, options: Options = Options()) -> ImportSummary:
    """Import every legacy result file under `paths`; returns what happened, in counts that reconcile."""
    _check_response_id()
    start = time.perf_counter()
    summary = ImportSummary()
    override = _resolve_override(options.model, summary)
    clean_leftovers(data.raw)
    try:
        imported = _imported(data)
    except duckdb.Error as exc:  # a damaged log shard: named, with the remedy
        with contextlib.suppress(duckdb.Error):  # the failed read left the default connection's transaction aborted
            duckdb.execute("rollback")
        raise LegacyImportError(f"cannot read the import log: {str(exc).splitlines()[0]}; {REPAIR_HINT}") from None
    planned = list(_plan(paths, data, override, summary, imported))
    todo = [f for f in planned if f.format in FORMATS]
    publishing = Publishing()
    with (
        _connection(options) as con,
        tqdm(
            total=sum(d.size for d in todo),
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            disable=not options.progress,
            dynamic_ncols=True,
            desc="import",
        ) as bar,
    ):

        def run(batch: list[SourceFile]) -> list[FileResult]:
            cursor = prepare(con.cursor())
            try:
                results = Batch(cursor, data, batch, override, summary, publishing).run()
            finally:
                cursor.close()
            with publishing:
                bar.update(sum(f.size for f in batch))
                bar.set_postfix(rows=summary.total("rows_read"), responses=summary.total("responses"), refresh=False)
            return results

        with ThreadPoolExecutor(max(1, options.workers)) as pool:
            for results in pool.map(run, _batches(todo, options.batch_bytes)):
                summary.files += results
    harness = [f for f in planned if f.format not in FORMATS]
    import_harness(harness, data, summary, options.progress)
    summary.bytes_read = sum(d.size for d in planned)
    summary.elapsed_s = time.perf_counter() - start
    return summary


def import_harness(files: list[SourceFile], data: Paths, summary: ImportSummary, progress: bool) -> None:
    """The harness logs among the files: one at a time, each into its run's shards (see ingest/harness)."""
    from evalhouse.ingest.harness.run import import_harness_file, refuse
    from evalhouse.ingest.harness.store import BadFile

    if not files:
        return
    with tqdm(desc="harness logs", unit=" records", disable=not progress, dynamic_ncols=True) as bar:
        for file in files:
            bar.set_postfix(file=file.path.name, refresh=False)
            try:
                result = import_harness_file(file.path, file.format, data, bar)
            except BadFile as exc:
                summary.refused.append((file.path, str(exc)))
                refuse(file.path, file.format, str(exc), data)
                continue
            summary.add_harness(result)


def _check_response_id() -> None:
    """The statements build response ids with the `response_id` macro; make sure it still builds the collector's."""
    fields = {"model": "m/x", "problem_id": "toolproj/add/2/1", "arm": "nl", "seed": 3}
    with duckdb.connect() as con:
        got = prepare(con).execute(SQL("response_id.sql"), fields).fetchone()[0]
    if got != response_id(**fields):
        raise RuntimeError("importers/sql/prepare.sql: the SQL response_id no longer matches collector.response_id")


def _resolve_override(model: str | None, summary: ImportSummary) -> str | None:
    if model is None:
        return None
    if not model.strip():
        raise LegacyImportError("--model is empty")
    resolved = resolve(model)
    if resolved is None:
        summary.unknown_models[model.strip()] += 1
    return resolved or model.strip()


def _plan(
    paths: Iterable[Path], data: Paths, override: str | None, summary: ImportSummary, imported: dict[str, dict]
) -> Iterator[SourceFile]:
    """The files to import; the others are recorded in the summary as skipped, ignored or refused.

    A folder in which no file is recognised (imported, skipped as an aggregate or read with another)
    is recorded with what it holds, so that the command can say what it saw."""
    refused_writer = BatchWriter()
    for given in paths:
        seen: list[Path] = []
        recognised = False
        for found in discover([given]):
            seen.append(found.path)
            recognised |= found.importable or found.aggregate is not None or found.part_of is not None
            yield from _plan_one(found, data, override, summary, imported, refused_writer)
        if given.is_dir() and not recognised:
            summary.unrecognised.append((given, seen))
    refused_writer.publish()


def _plan_one(
    found: Detected,
    data: Paths,
    override: str | None,
    summary: ImportSummary,
    imported: dict[str, dict],
    refused_writer: BatchWriter,
) -> Iterator[SourceFile]:
    """Record what one discovered file is; yield it when it is to be imported."""
    if found.part_of:
        if found.explicit:
            summary.refused.append((found.path, f"read with {found.part_of}: import that file or its folder"))
        else:
            summary.parts.append((found.path, found.part_of))
    elif found.aggregate:
        summary.skipped.append((found.path, found.aggregate))
    elif not found.importable:
        if found.explicit:
            summary.refused.append((found.path, found.problem))
            _quarantine_whole_file(found, data, refused_writer)
        else:
            summary.ignored.append((found.path, found.problem))
    elif found.format == RUN_CSV and override is None:
        summary.refused.append(
            (found.path, "no model is recorded in this file (an older per-run CSV): name it with --model ID")
        )
    else:
        origin = Origin.of(found.path)
        file = SourceFile(found.path, found.format, origin.size, origin)
        if _unchanged(file, imported.get(origin.file), override):
            summary.unchanged.append(found.path)
        else:
            yield file


def _quarantine_whole_file(found: Detected, data: Paths, writer: BatchWriter) -> None:
    with open(found.path, "rb") as fh:
        first = fh.readline(4096)
    resolved = str(found.path.resolve())
    table = pa.table(
        {
            "file": [resolved],
            "line": [None],
            "reason": [f"not imported: {found.problem}"],
            "raw": [show(first)],
            "importer": ["legacy"],
            "quarantined_at": [datetime.now(timezone.utc)],
        },
        schema=QUARANTINE_SCHEMA,
    )
    writer.add(quarantine_shard(data, "legacy", file_key(resolved)), table)


def _imported(data: Paths) -> dict[str, dict]:
    """The latest manifest row of every file imported before, by absolute path."""
    if not data.imports.exists() or not any(data.imports.glob("*.parquet")):
        return {}
    with duckdb.connect() as con:
        rows = con.execute(SQL("imported.sql"), {"manifests": str(data.imports / "*.parquet")}).to_arrow_table()
    return {row["file"]: row for row in rows.to_pylist()}


def _unchanged(file: SourceFile, row: dict | None, override: str | None) -> bool:
    """Imported before from this very file (same size and modification time) by this importer version."""
    if row is None:
        return False
    same = (row["size"], row["mtime_ns"], row["importer_version"], row["model_override"], row["importer"]) == (
        file.origin.size,
        file.origin.mtime_ns,
        IMPORTER_VERSION,
        override if file.format == RUN_CSV else None,
        file.importer,
    )
    return same and all(Path(p).exists() for p in row["runs"])


def _batches(files: list[SourceFile], limit: int) -> Iterator[list[SourceFile]]:
    batch, size = [], 0
    for file in files:
        if batch and size + file.size > limit:
            yield batch
            batch, size = [], 0
        batch.append(file)
        size += file.size
    if batch:
        yield batch


@contextmanager
def _connection(options: Options) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB bounded in memory, spilling to a private temporary folder."""
    tmp = tempfile.mkdtemp(prefix="evalhouse-import-")
    config = {"memory_limit": options.memory_limit, "temp_directory": tmp}
    if options.threads:
        config["threads"] = options.threads
    try:
        try:
            con = duckdb.connect(config=config)
        except duckdb.Error as exc:
            raise LegacyImportError(f"cannot open DuckDB with memory limit {options.memory_limit!r}: {exc}") from None
        try:
            yield prepare(con)
        finally:
            con.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
