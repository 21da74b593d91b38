"""Where an import writes, and how: one response shard per legacy run, atomically, many at a time.

A run is (importer, run id, model, seed). Its shard has a fixed name derived from that identity, so
importing a run again overwrites it, and the shard's Parquet metadata records the file it came from
(path, size, modification time): a later import keeps whichever copy of the run is newer.

Shards are written the way `evalhouse.files.write_atomic` writes one file, in its two halves: a batch
writes all its temporary files first (`files.write_temp`, several at a time: the Parquet writer releases
the GIL, and a flush mostly waits on the disk), then renames them and flushes each folder once
(`files.publish`).
"""

from __future__ import annotations

import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from evalhouse.config import Paths
from evalhouse.files import publish, write_temp

META_KEY = b"evalhouse.import"
WRITERS = 8  # encoding needs a core, but syncing a file mostly waits on the disk: more in flight, fewer waits

# A legacy run is a few hundred rows whose text is in prompt and response_text: compressing the
# small columns too, dictionary-encoding unique text and keeping statistics nobody filters on cost
# more than the text itself for such shards.
_TEXT = (
    "prompt",
    "response_text",
    "raw_answer",
    "exec_stderr",
    "source_status",
    "parsed_answer",
    "gold_answer",
    "response_id",
    "source_request_id",
    "problem_id",
)
_KEYS = ("response_id", "run_id", "source", "model", "problem_id", "kind", "digit", "arm", "seed")


def response_write_options(schema: pa.Schema) -> dict[str, Any]:
    names = schema.names
    return {
        "compression": {n: ("zstd" if n in _TEXT else "none") for n in names},
        "compression_level": {n: 1 for n in names if n in _TEXT},
        "use_dictionary": [n for n in names if n not in _TEXT],
        "write_statistics": [n for n in names if n in _KEYS],
    }


@dataclass(frozen=True)
class Origin:
    """The file a run's rows came from, as recorded in its shard."""

    file: str
    size: int
    mtime_ns: int

    def newer_than(self, other: Origin) -> bool:
        return (self.mtime_ns, self.file) > (other.mtime_ns, other.file)

    def to_json(self) -> str:
        return json.dumps({"file": self.file, "size": self.size, "mtime_ns": self.mtime_ns})

    @property
    def key(self) -> str:
        """A short name for the file, stable across imports (its quarantine shard is named so)."""
        return file_key(self.file)

    @classmethod
    def of(cls, path: Path) -> Origin:
        st = path.stat()
        return cls(str(path.resolve()), st.st_size, st.st_mtime_ns)


SLUG_CHARS = 100  # file names stay far below the file system's 255 bytes, whatever a file calls its model


def slug(text: str) -> str:
    """A file-name-safe rendering of a model id: `openai/gpt-5-nano` -> `openai--gpt-5-nano`; a long one is
    cut, with a hash of the whole so two long names stay apart."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text.replace("/", "--")) or "_"
    if len(name) <= SLUG_CHARS:
        return name
    return f"{name[: SLUG_CHARS - 17]}-{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:16]}"


def run_shard(paths: Paths, importer: str, run_id: str, model: str, seed: int) -> Path:
    folder = paths.responses / f"source={importer}" / f"run_id={slug(run_id)}"
    digest = hashlib.sha256(f"{model}|{seed}".encode()).hexdigest()[:8]
    return folder / f"{slug(model)}__seed{seed}__{digest}.parquet"


def file_key(resolved: str) -> str:
    """The key of a file by its absolute, resolved path."""
    return hashlib.sha256(resolved.encode()).hexdigest()[:16]


def quarantine_shard(paths: Paths, importer: str, key: str) -> Path:
    return paths.quarantine / f"source={importer}" / f"{key}.parquet"


def recorded_origin(shard: Path) -> Origin | None:
    """The origin stored in an existing shard's metadata, or None when there is no such shard."""
    try:
        meta = pq.read_schema(shard).metadata or {}
    except (OSError, pa.ArrowInvalid):
        return None
    if META_KEY not in meta:
        return None
    data = json.loads(meta[META_KEY])
    return Origin(data["file"], data["size"], data["mtime_ns"])


class BatchWriter:
    """A batch's shards: `add` queues them, `prepare` writes them to hidden temporary files (in
    parallel, flushed), `publish` renames them into place (all but those it is told to discard) and
    flushes each folder once."""

    def __init__(self) -> None:
        self.pending: list[tuple[Path, pa.Table, dict[str, Any]]] = []
        self.prepared: list[tuple[int, Path, Path]] = []  # (ticket, temporary file, target)
        self.removals: list[Path] = []

    def add(
        self, target: Path, table: pa.Table, origin: Origin | None = None, options: dict[str, Any] | None = None
    ) -> int:
        """Queue a shard; returns its ticket (to discard it at publish time)."""
        if origin is not None:
            table = table.replace_schema_metadata(
                {**(table.schema.metadata or {}), META_KEY: origin.to_json().encode()}
            )
        self.pending.append((target, table, options or {"compression": "zstd"}))
        return len(self.prepared) + len(self.pending) - 1

    def remove(self, target: Path) -> None:
        if target.exists():
            self.removals.append(target)

    def prepare(self) -> None:
        first = len(self.prepared)
        for folder in {target.parent for target, _, _ in self.pending}:
            folder.mkdir(parents=True, exist_ok=True)
        items = list(enumerate(self.pending, start=first))
        self.pending = []
        with ThreadPoolExecutor(WRITERS) as pool:
            for done in pool.map(self._write_temp, items):
                self.prepared.append(done)

    def publish(self, discard: set[int] = frozenset()) -> None:
        self.prepare()
        for ticket, tmp, _ in self.prepared:
            if ticket in discard:
                tmp.unlink(missing_ok=True)
        written = [(tmp, target) for ticket, tmp, target in self.prepared if ticket not in discard]
        publish(written, self.removals, workers=WRITERS)  # a run per folder: as many folders as shards
        self.prepared, self.removals = [], []

    @staticmethod
    def _write_temp(item: tuple[int, tuple[Path, pa.Table, dict[str, Any]]]) -> tuple[int, Path, Path]:
        ticket, (target, table, options) = item
        return ticket, write_temp(target, lambda tmp: pq.write_table(table, tmp, **options)), target

    def abort(self) -> None:
        for _, tmp, _ in self.prepared:
            tmp.unlink(missing_ok=True)
        self.pending, self.prepared, self.removals = [], [], []
