"""Import the harness files the legacy pipeline's discovery found: one file at a time, each through
its format's reader into its run's shards, with a manifest row so an unchanged file is not read again."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import ijson
import pyarrow as pa
from tqdm import tqdm

from evalhouse.config import Paths
from evalhouse.ingest.importers.lines import show
from evalhouse.ingest.importers.output import BatchWriter, Origin, quarantine_shard
from evalhouse.ingest.importers.schemas import IMPORTER_VERSION, MANIFEST_SCHEMA, QUARANTINE_SCHEMA

from . import eee, helm, inspect_log, lm_eval
from .detect import EEE_AGGREGATE, EEE_INSTANCES, HELM, INSPECT_EVAL, INSPECT_JSON, LM_EVAL, SOURCE
from .store import SHAPE_ERRORS, BadFile, BadRecord, Counts, RunSink, unexpected

READERS: dict[str, Callable[[Path, RunSink], None]] = {
    INSPECT_EVAL: inspect_log.read_eval,
    INSPECT_JSON: inspect_log.read_json,
    LM_EVAL: lm_eval.read,
    HELM: helm.read,
    EEE_AGGREGATE: eee.read_aggregate,
    EEE_INSTANCES: eee.read_instances,
}


@dataclass
class HarnessResult:
    path: Path
    source: str
    run_id: str | None
    model: str | None
    counts: Counts = field(default_factory=Counts)
    shards: list[str] = field(default_factory=list)

    @property
    def reconciles(self) -> bool:
        return self.counts.reconciles


def import_harness_file(path: Path, fmt: str, data: Paths, bar: tqdm | None = None) -> HarnessResult:
    """Read one harness file into its run's shards; raise BadFile (nothing written) when it cannot be read."""
    origin = Origin.of(path)
    sink = RunSink(
        data,
        SOURCE[fmt],
        origin,
        tick=bar.update if bar is not None else None,
        on_expect=(lambda n: _expect(bar, n)) if bar is not None else None,
    )
    try:
        try:
            READERS[fmt](path, sink)
        except (*SHAPE_ERRORS, BadRecord, ijson.JSONError) as exc:  # its header or layout is not its format's
            raise BadFile(f"not readable as {fmt} ({unexpected(exc)})") from None
        if sink.run_id is None:
            raise BadFile("no run in it (no model or task recorded)")
        shards = sink.publish()
    except BaseException:
        sink.abort()
        raise
    result = HarnessResult(path, SOURCE[fmt], sink.run_id, sink.model, sink.counts, [str(s) for s in shards])
    _manifest(data, origin, result)
    return result


def _expect(bar: tqdm, records: int) -> None:
    bar.total = (bar.total or 0) + records
    bar.refresh()


def refuse(path: Path, fmt: str, reason: str, data: Paths) -> None:
    """A harness file that cannot be read at all: one quarantine entry for the whole file."""
    with open(path, "rb") as fh:
        first = fh.readline(4096)
    resolved = str(path.resolve())
    source = SOURCE[fmt]
    table = pa.table(
        {
            "file": [resolved],
            "line": [None],
            "reason": [f"not imported: {reason}"],
            "raw": [show(first)],
            "importer": [source],
            "quarantined_at": [datetime.now(timezone.utc)],
        },
        schema=QUARANTINE_SCHEMA,
    )
    writer = BatchWriter()
    writer.add(quarantine_shard(data, source, Origin.of(path).key), table)
    writer.publish()


def _manifest(data: Paths, origin: Origin, result: HarnessResult) -> None:
    now = datetime.now(timezone.utc)
    c = result.counts
    row = {
        "file": origin.file,
        "importer": result.source,
        "importer_version": IMPORTER_VERSION,
        "model_override": None,
        "size": origin.size,
        "mtime_ns": origin.mtime_ns,
        "rows_read": c.records_read,
        "rows_loaded": c.records_loaded,
        "rows_quarantined": c.records_quarantined,
        "rows_superseded": 0,
        "responses": 0,
        "arms_never_ran": 0,
        "runs": result.shards,
        "imported_at": now,
    }
    name = hashlib.sha256(origin.file.encode() + now.isoformat().encode()).hexdigest()[:12]
    writer = BatchWriter()
    writer.add(
        data.imports / f"import-{now:%Y%m%dT%H%M%S}-{name}.parquet", pa.Table.from_pylist([row], schema=MANIFEST_SCHEMA)
    )
    writer.publish()
