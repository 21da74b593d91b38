"""What a build has to do: compare the data folder and the project with what the warehouse was built from.

A build is full when there is no warehouse yet, when the project (models, macros, seeds, versions)
changed since the last build, or when a loaded shard changed or vanished (an importer replaced a run):
only a rebuild from scratch is then right. Otherwise it is incremental and runs only the dbt nodes
downstream of what changed, because each dbt node costs a tenth of a second of start-up whether or not
it has work to do:

- new response shards: `stg_shards+` (the load log, the winning attempts, graded_responses, the marts);
- changed problem, metric, quarantine or re-read answer files: `stg_problems+`, `stg_metrics+`,
  `stg_quarantine+`, `stg_answers+`;
- changed harness shards (benchmark_samples, benchmark_scores): the benchmark models.

The seeds, the unit tests and everything else are the same project's and cannot have changed. With
nothing new, there is nothing to run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from .ingest.answers import EXTRACTOR_VERSION
from .ingest.store import REPAIR_HINT
from .raw_tables import is_schema_shard

# What the project fingerprint covers: everything that changes what a build computes.
PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests/dbt")
VERSIONED = ("dbt-core", "dbt-duckdb", "duckdb")
# Raw folders other than responses, each feeding one staging model (and what is downstream of it).
FOLDERS = {
    "problems": "stg_problems",
    "metrics": "stg_metrics",
    "quarantine": "stg_quarantine",
    "answers": "stg_answers",
    "benchmark_samples": "stg_benchmark_samples",
    "benchmark_scores": "stg_benchmark_scores",
}
# Above this share of free blocks an incremental build would mostly copy holes: rebuild instead.
MAX_FREE_SHARE = 0.5


class BuildError(Exception):
    pass


@dataclass(frozen=True)
class BuildPlan:
    """Whether a build can be incremental, which dbt nodes it must run, and why.

    `verified` means this warehouse was last built by the same project, so its unit tests (which read
    no data) passed on it already and need not run again."""

    incremental: bool
    reason: str
    fingerprint: str
    select: list[str] = field(default_factory=list)
    verified: bool = False
    new_shards: list[Path] = field(default_factory=list)  # response shards this build loads first

    @property
    def up_to_date(self) -> bool:
        return self.incremental and not self.select


def project_fingerprint(project: Path) -> str:
    """A hash of the project's files and of the versions that run them."""
    digest = hashlib.sha256()
    for name in PROJECT_FILES:
        root = project / name
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
        for path in files:
            if "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(project)).encode() + b"\0" + path.read_bytes() + b"\0")
    for dist in VERSIONED:
        digest.update(f"{dist}=={metadata.version(dist)}\0".encode())
    # a new answer reader reads every stored reply again: only a full build does that
    digest.update(f"extractor {EXTRACTOR_VERSION}\0".encode())
    return digest.hexdigest()[:16]


def folder_fingerprint(folder: Path) -> str:
    """A hash of the Parquet files under a raw folder (names, sizes, modification seconds)."""
    files = sorted(map(str, folder.rglob("*.parquet"))) if folder.exists() else []
    lines = [f"{f}|{os.stat(f).st_size}|{int(os.stat(f).st_mtime)}" for f in files]
    return hashlib.md5("\n".join(lines).encode()).hexdigest()


def input_fingerprints(raw: Path) -> str:
    """The fingerprints of the raw folders other than responses, as marts.builds stores them (JSON)."""
    return json.dumps({folder: folder_fingerprint(raw / folder) for folder in FOLDERS}, sort_keys=True)


def plan_build(warehouse: Path, project: Path, raw: Path, full_refresh: bool = False) -> BuildPlan:
    """Decide between a full and an incremental build (and what it runs) by reading the warehouse."""
    fingerprint = project_fingerprint(project)
    if not warehouse.exists():
        return BuildPlan(False, "no warehouse yet", fingerprint)
    with open_for_reading(warehouse) as con:
        try:
            last = con.execute(
                "select project_fingerprint, input_fingerprints from marts.builds order by started_at desc limit 1"
            ).fetchone()
            shards = con.execute("select file, size_bytes, modified_at from staging.stg_shards").fetchall()
            free, total = con.execute(
                "select sum(free_blocks), sum(total_blocks) from pragma_database_size()"
            ).fetchone()
        except duckdb.Error:
            return BuildPlan(False, "the warehouse predates incremental builds", fingerprint)
    verified = last is not None and last[0] == fingerprint

    def full(reason: str) -> BuildPlan:
        return BuildPlan(False, reason, fingerprint, verified=verified)

    if full_refresh:
        return full("asked for a full build")
    if not verified:
        return full("the project changed since the last build")
    if total and free / total > MAX_FREE_SHARE:
        return full("the warehouse file is more than half free space")

    loaded = set()
    for file, size, modified_at in shards:
        try:
            st = os.stat(file)
        except OSError:
            return full(f"shard {file} vanished")
        if st.st_size != size or int(st.st_mtime) != int(modified_at.timestamp()):
            return full(f"shard {file} changed")
        loaded.add(file)
    responses = raw / "responses"
    listed = [p for p in responses.rglob("*.parquet") if not is_schema_shard(p)] if responses.exists() else []
    new = [p for p in listed if str(p) not in loaded]

    select, reasons = [], []
    if new:  # regrade reads each one's footer next: a file that is not Parquet fails there, named
        select += ["stg_shards+"]
        reasons.append(f"{len(new)} new shard" + ("s" if len(new) > 1 else ""))
    before = json.loads(last[1] or "{}")
    for folder, model in FOLDERS.items():
        if folder_fingerprint(raw / folder) != before.get(folder):
            select.append(f"{model}+")
            reasons.append(f"{folder} changed")
    if select:
        select.append("builds")
    return BuildPlan(True, ", ".join(reasons) or "nothing new", fingerprint, select, verified=True, new_shards=new)


def shard_columns(shard: Path) -> list[str]:
    """A shard's column names; a file that is not Parquet fails the build, named."""
    try:
        return pq.read_schema(shard).names
    except (OSError, pa.ArrowException) as exc:
        raise BuildError(
            f"cannot build: {shard} is not a readable Parquet shard ({str(exc).splitlines()[0]}); {REPAIR_HINT}"
        ) from None


def check_footers(raw: Path, since: float) -> None:
    """Every file the build reads outside responses/ (whose footers regrade reads) written after `since`
    (a POSIX time) has a Parquet footer: one that has none fails the build here, named, not inside dbt."""
    for folder in FOLDERS:
        for path in (raw / folder).rglob("*.parquet") if (raw / folder).exists() else []:
            if not path.name.startswith(".") and path.stat().st_mtime >= since:
                shard_columns(path)


@contextmanager
def open_for_reading(warehouse: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse read-only, failing with the holder and the remedy if a writer has it open."""
    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:
        raise BuildError(_writer_message(warehouse, str(exc))) from None
    try:
        yield con
    finally:
        con.close()


def _writer_message(warehouse: Path, error: str) -> str:
    held = re.search(r"held in (.+?) \(PID (\d+)\)", error)
    who = f"{held.group(1)} (PID {held.group(2)})" if held else "another process"
    return (
        f"{warehouse} is open for writing by {who}; close it, or read it with `duckdb -readonly`, "
        "which a build does not disturb"
    )
