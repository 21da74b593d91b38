"""`evalhouse repair`: set unreadable shards aside, write again what the journal still holds, name what is lost.

One shard under `data/raw/` that is not readable Parquet (cut short, overwritten, a bad sector) stops
every reader of its folder: `build`, `status`, `ingest run`. Repair reads every shard whole, with both
readers the project uses (pyarrow and DuckDB), and moves each one that fails to
`data/quarantined-shards/<its path below data/>`: outside `raw/`, so nothing reads it, and kept, so
nothing is deleted. Beside it, `<name>.json` records why, when, what was written again and what is lost.
Then, for what the shard held:

- a collector run's journal segments (`ingest/journal.py`) become shards, as a resuming run makes them:
  rows still journaled whose shard was set aside are written again;
- the response ids it held are named from whatever still knows them: its own `response_id` column (when
  only other pages are damaged) and the warehouse's last build (`graded.int_responses_latest` names each
  winning row's shard, `staging.stg_shards` its file). Ids stored in no readable shard are lost; the next
  `ingest run` of the plan (or `rerun`) asks for them again, since what is stored decides what is asked.
  A run's manifest (`run.json`) counts the rows the run stored, so the number lost per run is known even
  when the ids are not;
- an imported shard names the files it came from (the import log), to be imported again.

A folder's `schema.parquet` holds no rows: when it cannot be read it is written again, not set aside.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from evalhouse.config import Paths
from evalhouse.files import fsync_path, write_atomic
from evalhouse.ingest.journal import read_segment, recover, segment_name
from evalhouse.ingest.shards import RESPONSE_SCHEMA, table_from_rows, write_shard
from evalhouse.raw_tables import ensure_schema_shards, is_schema_shard

SHOWN_IDS = 20  # lost ids printed per shard; the record beside it holds them all
_PART = re.compile(r"^part-(\d+)$")
_RUN_DONE = ("done", "capped", "aborted", "interrupted", "failed")  # a manifest whose counts are final


class RepairError(Exception):
    """Repair cannot run here (object storage, a build holding the warehouse)."""


@dataclass
class SetAside:
    """One unreadable shard, moved out of raw/."""

    shard: str  # its path below the data folder, as it was
    moved_to: str
    reason: str
    table: str  # the raw folder: responses, problems, metrics, ...
    run: str | None = None  # collector run (run_id=…) or importer source (source=…)
    rebuilt: int = 0  # rows written again from the run's journal
    lost_ids: list[str] = field(default_factory=list)  # response ids stored in no readable shard now
    errors_only: list[str] = field(default_factory=list)  # ids whose answer was lost; an error row remains
    known_ids: int = 0  # ids the shard held, as far as anything still knows them
    remedy: str = ""
    set_aside_at: str = ""


@dataclass
class RepairResult:
    checked: int = 0
    bytes_checked: int = 0
    set_aside: list[SetAside] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # dry run: (shard, reason)
    schemas_rewritten: list[str] = field(default_factory=list)
    recovered: int = 0  # journaled rows of killed runs written as shards
    lost_per_run: dict[str, int | None] = field(default_factory=dict)  # collector run -> rows lost (None: unknown)
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        bad = len(self.set_aside) + len(self.schemas_rewritten) or len(self.unreadable)
        out = [f"checked {self.checked} shards ({self.bytes_checked / 1e6:.1f} MB): {bad} unreadable"]
        for shard, reason in self.unreadable:
            out.append(f"would set aside {shard}: {reason}")
        for s in self.set_aside:
            out.append(f"set aside {s.shard} -> {s.moved_to}")
            out.append(f"  why: {s.reason}")
            if s.rebuilt:
                out.append(f"  written again from the run's journal: {s.rebuilt} responses")
            if s.table == "responses" and not s.known_ids:
                out.append("  its response ids are not known: no readable page, journal or warehouse build names them")
            elif s.table == "responses":
                out.append(
                    f"  lost: {len(s.lost_ids)} of the {s.known_ids} response ids known to have been in it"
                    + (f": {', '.join(s.lost_ids[:SHOWN_IDS])}" if s.lost_ids else "")
                    + (f", … (all in {s.moved_to}.json)" if len(s.lost_ids) > SHOWN_IDS else "")
                )
                if s.errors_only:
                    out.append(
                        f"  {len(s.errors_only)} more are now stored only as API errors "
                        "(`evalhouse ingest run --retry-errors` or `evalhouse rerun` asks again)"
                    )
            if s.remedy:
                out.append(f"  to get it back: {s.remedy}")
        for run, lost in sorted(self.lost_per_run.items()):
            if lost is None:
                out.append(f"run {run}: how many responses were lost is not known (its run.json is missing or live)")
            else:
                out.append(f"run {run}: {lost} responses lost (its run.json counts what it stored)")
        for schema in self.schemas_rewritten:
            out.append(f"rewrote {schema} (it holds no rows)")
        if self.recovered:
            out.append(f"wrote {self.recovered} journaled responses of killed runs as shards")
        if self.set_aside:
            out.append("then: `evalhouse build` (a full build: loaded shards were set aside)")
        elif not bad:
            out.append("nothing to repair")
        return out


def repair(paths: Paths, dry_run: bool = False, progress: bool = False) -> RepairResult:
    """Check every shard under data/raw; set the unreadable ones aside and rebuild what can be rebuilt."""
    if paths.data_uri:
        raise RepairError("repair reads a local data folder; shards in object storage are checked by the store")
    result = RepairResult(dry_run=dry_run)
    shards = _shards(paths.raw)
    result.checked, result.bytes_checked = len(shards), sum(p.stat().st_size for p in shards)
    found = _unreadable_shards(shards, result.bytes_checked, progress)
    schemas = [p for p in found if is_schema_shard(p)]
    bad = {p: why for p, why in found.items() if not is_schema_shard(p)}
    if dry_run:
        result.unreadable = [
            (_below(p, paths.data), f"{why}{' (holds no rows: written again)' if p in schemas else ''}")
            for p, why in found.items()
        ]
        return result
    if schemas:
        ensure_schema_shards(paths.raw)
        result.schemas_rewritten = [_below(p, paths.data) for p in schemas]
    if not bad:
        result.recovered = _recover(paths)
        return result
    from evalhouse.build import BuildError, build_lock

    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    try:
        with build_lock(paths.warehouse):  # a build reading the shards meanwhile would fail half-way
            _set_aside(paths, bad, result)
    except BuildError as exc:
        raise RepairError(str(exc).replace("build again", "repair again")) from None
    return result


def _set_aside(paths: Paths, bad: dict[Path, str], result: RepairResult) -> None:
    known = {p: _known_ids(p, paths) for p in bad}
    journaled = {p: _journaled_ids(p) for p in bad}
    for path, why in bad.items():
        result.set_aside.append(_move(path, why, paths))
    result.recovered = _recover(paths)
    stored = _stored_now(
        {i for ids in known.values() for i in ids} | {i for ids in journaled.values() for i in ids}, paths
    )
    imported_from = _import_log(paths)
    for entry, path in zip(result.set_aside, bad):
        if path.exists():  # written again under its name, from its journal segment
            entry.rebuilt = pq.read_metadata(path).num_rows
            result.recovered -= entry.rebuilt
        ids = known[path] | journaled[path]
        entry.known_ids = len(ids)
        entry.lost_ids = sorted(i for i in ids if i not in stored)
        entry.errors_only = sorted(i for i in ids if stored.get(i) is False)
        entry.remedy = _remedy(entry, imported_from)
    for run_folder in {p.parent for p in bad if _collector_run(p)}:
        result.lost_per_run[run_folder.name.removeprefix("run_id=")] = _lost_rows(run_folder)
    for entry in result.set_aside:
        target = paths.data / entry.moved_to
        write_atomic(target.with_name(target.name + ".json"), json.dumps(asdict(entry), indent=2) + "\n")


# -- finding unreadable shards -------------------------------------------------------------------


def _shards(raw: Path) -> list[Path]:
    """Every Parquet file a reader of data/raw globs (hidden temporary files are not read)."""
    if not raw.exists():
        return []
    return sorted(p for p in raw.rglob("*.parquet") if p.is_file() and not p.name.startswith("."))


def _unreadable_shards(shards: list[Path], total: int, progress: bool) -> dict[Path, str]:
    bad = {}
    con = duckdb.connect(config={"threads": 1, "memory_limit": "1GB"})
    try:
        with tqdm(
            total=total, unit="B", unit_scale=True, desc="repair: reading shards", disable=None if progress else True
        ) as bar:
            for path in shards:
                why = _unreadable(path, con)
                if why is not None:
                    bad[path] = why
                bar.update(path.stat().st_size)
    finally:
        con.close()
    return bad


def _unreadable(path: Path, con: duckdb.DuckDBPyConnection) -> str | None:
    """Why the shard cannot be read whole (footer and every page, by pyarrow and by DuckDB), or None."""
    try:
        for _ in pq.ParquetFile(path).iter_batches(batch_size=65536):
            pass
    except (OSError, pa.ArrowException) as exc:
        return f"pyarrow: {str(exc).splitlines()[0]}"
    try:
        for _ in con.execute("select * from read_parquet(?)", [str(path)]).to_arrow_reader(65536):
            pass
    except duckdb.Error as exc:
        return f"DuckDB: {str(exc).splitlines()[0]}"
    return None


# -- what the shard held ----------------------------------------------------------------------------


def _known_ids(path: Path, paths: Paths) -> set[str]:
    """The response ids a response shard held, from its own column (if that page is sound) and the last build."""
    if _table(path, paths) != "responses":
        return set()
    ids: set[str] = set()
    with contextlib.suppress(OSError, pa.ArrowException, KeyError):  # the column's pages are damaged too
        ids |= {i for i in pq.read_table(path, columns=["response_id"]).column(0).to_pylist() if i}
    if paths.warehouse.exists():
        relative = path.relative_to(paths.raw).as_posix()
        try:
            con = duckdb.connect(str(paths.warehouse), read_only=True)
        except duckdb.Error:
            return ids
        try:
            rows = con.execute(
                "select response_id from graded.int_responses_latest where shard_id in "
                "(select shard_id from staging.stg_shards where regexp_replace(file, '^.*/raw/', '') = ?)",
                [relative],
            ).fetchall()
            ids |= {r[0] for r in rows}
        except duckdb.Error:  # an older or half-built warehouse: the shard's own column is all there is
            pass
        finally:
            con.close()
    return ids


def _journaled_ids(path: Path) -> set[str]:
    """The ids still in the journal segment the shard was written from (a collector shard `part-N`)."""
    match = _PART.match(path.stem)
    if not match or not _collector_run(path):
        return set()
    segment = path.parent / segment_name(int(match.group(1)))
    try:
        with open(segment, encoding="utf-8") as fh:
            return {row["response_id"] for row in read_segment(fh) if row.get("response_id")}
    except (OSError, ValueError, TypeError, KeyError):
        return set()


def _stored_now(ids: set[str], paths: Paths) -> dict[str, bool]:
    """Of `ids`, those stored in a readable response shard: id -> whether a stored row is an answer."""
    if not ids or not any(paths.responses.rglob("*.parquet")):
        return {}
    con = duckdb.connect()
    try:
        con.register("wanted", pa.table({"response_id": pa.array(sorted(ids), pa.string())}))
        glob = str(paths.responses / "**" / "*.parquet").replace("'", "''")
        rows = con.execute(
            f"select response_id, bool_or(error is null) from read_parquet('{glob}', union_by_name = true, "
            "hive_partitioning = false) semi join wanted using (response_id) group by response_id"
        ).fetchall()
    finally:
        con.close()
    return dict(rows)


def _import_log(paths: Paths) -> dict[str, list[str]]:
    """Shard path below raw/ -> the files it was imported from, from the import log (raw/imports/)."""
    if not paths.imports.exists() or not any(paths.imports.glob("*.parquet")):
        return {}
    glob = str(paths.imports / "*.parquet").replace("'", "''")
    found: dict[str, list[str]] = defaultdict(list)
    con = duckdb.connect()
    try:
        rows = con.execute(
            f"select distinct regexp_replace(shard, '^.*/raw/', ''), file "
            f"from (select file, unnest(runs) as shard from read_parquet('{glob}', union_by_name = true))"
        ).fetchall()
    except duckdb.Error:
        return {}
    finally:
        con.close()
    for shard, file in rows:
        found[shard].append(file)
    return found


def _lost_rows(run_folder: Path) -> int | None:
    """Rows a finished collector run stored (its manifest) that no readable shard of it holds now."""
    try:
        manifest = json.loads((run_folder / "run.json").read_text(encoding="utf-8"))
        done = int(manifest["summary"]["done"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if manifest.get("status") not in _RUN_DONE:
        return None
    shards = [p for p in run_folder.glob("*.parquet") if not p.name.startswith(".")]
    readable = sum(pq.read_metadata(p).num_rows for p in shards)
    return done - readable if done >= readable else None


def _remedy(entry: SetAside, imported_from: dict[str, list[str]]) -> str:
    below_raw = entry.shard.removeprefix("raw/")
    files = imported_from.get(below_raw)
    if files:
        return "import again: `evalhouse ingest import " + " ".join(sorted(set(files))) + "`"
    if entry.table == "responses" and entry.run and entry.run.startswith("run_id="):
        return "the next `evalhouse ingest run` of its plan (or `evalhouse rerun`) asks for the lost responses again"
    return {
        "responses": "import its source files again (`evalhouse ingest import …`)",
        "problems": "the next `evalhouse ingest run` of its plan writes it again, or `evalhouse problems generate`",
        "metrics": "load its metrics CSV again: `evalhouse ingest metrics FILE.csv`",
        "quarantine": "import its files again (`evalhouse ingest import …`): their bad rows are quarantined again",
        "answers": "nothing is lost: `evalhouse build` reads those replies again (`evalhouse regrade`)",
        "imports": "only the import log: the next `evalhouse ingest import` of its files reads them again",
        "benchmark_samples": "import its harness log again (`evalhouse ingest import …`)",
        "benchmark_scores": "import its harness log again (`evalhouse ingest import …`)",
    }.get(entry.table, "")


# -- moving and rebuilding --------------------------------------------------------------------------


def _move(path: Path, why: str, paths: Paths) -> SetAside:
    """Move the shard under data/quarantined-shards/ (same path below data/), and its derived answers file."""
    relative = path.relative_to(paths.data)
    target = paths.quarantined_shards / relative
    n = 1
    while target.exists():  # set aside before under this name: keep both
        target = paths.quarantined_shards / relative.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    fsync_path(target.parent)
    fsync_path(path.parent)
    table = _table(path, paths)
    if table == "responses":  # the answers re-read from it point into it by row: stale now
        (paths.raw / "answers" / path.relative_to(paths.raw)).unlink(missing_ok=True)
    run = next(
        (part for part in path.relative_to(paths.raw).parts[1:-1] if part.startswith(("run_id=", "source="))), None
    )
    if _collector_run(path):
        run = path.parent.name
    return SetAside(
        shard=relative.as_posix(),
        moved_to=target.relative_to(paths.data).as_posix(),
        reason=why,
        table=table,
        run=run,
        set_aside_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def _recover(paths: Paths) -> int:
    """Journal segments of dead runs (and of set-aside shards) become shards, as a resuming run makes them."""
    root = paths.responses / "source=collector"
    if not root.exists():
        return 0
    return recover(root, lambda rows, folder, stem: write_shard(table_from_rows(rows, RESPONSE_SCHEMA), folder, stem))


def _table(path: Path, paths: Paths) -> str:
    return path.relative_to(paths.raw).parts[0]


def _collector_run(path: Path) -> bool:
    return path.parent.name.startswith("run_id=") and path.parent.parent.name == "source=collector"


def _below(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


# -- what status shows ------------------------------------------------------------------------------


def quarantined(paths: Paths) -> list[dict[str, Any]]:
    """The shards set aside so far, each with its record (why, when, rebuilt, lost)."""
    root = paths.quarantined_shards
    if not root.exists():
        return []
    found = []
    for shard in sorted(root.rglob("*.parquet")):
        record: dict[str, Any] = {"moved_to": shard.relative_to(paths.data).as_posix()}
        try:
            record |= json.loads(shard.with_name(shard.name + ".json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record["reason"] = "no record beside it"
        found.append(record)
    return found
