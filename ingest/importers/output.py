"""Where an import writes, and how: one response shard per legacy run, atomically, many at a time.

A run is (importer, run id, model, seed). Its shard has a fixed name derived from that identity, so
importing a run again overwrites it, and the shard's Parquet metadata records the file it came from
(path, size, modification time): a later import keeps whichever copy of the run is newer.

Shards are written the way `ingest.shards.write_atomic` writes one: to a hidden temporary file,
flushed, then renamed. A batch writes all its temporary files first, flushes them, renames them,
then flushes each folder once, which costs one directory sync per folder instead of one per shard.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from evalhouse.config import Paths

META_KEY = b"evalhouse.import"


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

    @classmethod
    def of(cls, path: Path) -> Origin:
        st = path.stat()
        return cls(str(path.resolve()), st.st_size, st.st_mtime_ns)


def slug(text: str) -> str:
    """A file-name-safe rendering of a model id: `openai/gpt-5-nano` -> `openai--gpt-5-nano`."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text.replace("/", "--")) or "_"


def run_shard(paths: Paths, importer: str, run_id: str, model: str, seed: int) -> Path:
    folder = paths.responses / f"source={importer}" / f"run_id={slug(run_id)}"
    digest = hashlib.sha256(f"{model}|{seed}".encode()).hexdigest()[:8]
    return folder / f"{slug(model)}__seed{seed}__{digest}.parquet"


def file_key(path: Path) -> str:
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]


def quarantine_shard(paths: Paths, importer: str, path: Path) -> Path:
    return paths.quarantine / f"source={importer}" / f"{file_key(path)}.parquet"


def manifest_shard(paths: Paths, path: Path) -> Path:
    return paths.imports / f"{file_key(path)}.parquet"


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
    """Collects shards for one batch; `commit` makes them all visible."""

    def __init__(self) -> None:
        self.pending: list[tuple[Path, Path]] = []
        self.removals: list[Path] = []

    def add(self, target: Path, table: pa.Table, origin: Origin | None = None) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        if origin is not None:
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), META_KEY: origin.to_json().encode()})
        tmp = target.with_name(f".{target.stem}.parquet.tmp-{os.getpid()}")
        pq.write_table(table, tmp, compression="zstd")
        self.pending.append((tmp, target))

    def remove(self, target: Path) -> None:
        if target.exists():
            self.removals.append(target)

    def commit(self) -> None:
        for tmp, _ in self.pending:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        folders = set()
        for tmp, target in self.pending:
            os.replace(tmp, target)
            folders.add(target.parent)
        for target in self.removals:
            target.unlink(missing_ok=True)
            folders.add(target.parent)
        for folder in folders:
            fd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        self.pending, self.removals = [], []

    def abort(self) -> None:
        for tmp, _ in self.pending:
            tmp.unlink(missing_ok=True)
        self.pending, self.removals = [], []
