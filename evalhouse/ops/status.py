"""`evalhouse status`: what is stored, what failed, how fresh the warehouse is, what the next rerun would do.

Read from the shards (always current) and the file system; nothing is sent and nothing is built. The
warehouse is looked at only for its size and build time, so status works while a build runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb

from evalhouse.config import Paths
from evalhouse.ingest.shards import RESPONSE_SCHEMA
from evalhouse.ingest.spec import SpecError
from evalhouse.ingest.store import REPAIR_HINT, UnreadableStore, has_shards, load_state
from evalhouse.registry import lookup
from evalhouse.storage import StorageError, read_columns
from evalhouse.vocabulary import ARM_CODES as ARMS

from .checks import modified_since
from .lock import RerunLock
from .plan import SpecPlan, load_configs, plan
from .repair import quarantined

RUNS_SHOWN = 10
# the columns status reads from each stored response
STATUS_COLUMNS = ("response_id", "run_id", "source", "model", "arm", "error", "error_class", "created_at")


class StatusError(Exception):
    """The shards cannot be read (a file under data/raw that is not Parquet, say)."""


LAST_RERUN = "rerun-last.json"


@dataclass
class Status:
    warehouse: dict[str, Any]
    responses: dict[str, Any]
    runs: list[dict[str, Any]]
    models: list[dict[str, Any]]
    failed: list[dict[str, Any]]
    plans: list[SpecPlan]
    spec_error: str | None
    lock: dict[str, Any] | None
    last_rerun: dict[str, Any] | None
    experiments: Path = field(default=Path("experiments"))
    quarantined_shards: list[dict[str, Any]] = field(default_factory=list)  # set aside by `evalhouse repair`

    def to_dict(self) -> dict[str, Any]:
        return {
            "warehouse": self.warehouse,
            "responses": self.responses,
            "runs": self.runs,
            "models": self.models,
            "failed": self.failed,
            "next_rerun": {
                "specs": [p.to_dict() for p in self.plans],
                "error": self.spec_error,
                "requests": sum(p.requests for p in self.plans),
                "executions": sum(p.executions for p in self.plans),
            },
            "lock": self.lock,
            "last_rerun": self.last_rerun,
            "quarantined_shards": self.quarantined_shards,
        }

    def render(self) -> str:
        out = [_warehouse_line(self.warehouse), _responses_line(self.responses), ""]
        if self.runs:
            out.append(f"Runs ({self.responses['runs']}, latest first)")
            out += _table(
                ["run_id", "source", "models", "responses", "errors", "first write", "last write"],
                [
                    [
                        r["run_id"],
                        r["source"],
                        len(r["models"]),
                        r["responses"],
                        r["errors"],
                        r["first_write"] or "",
                        r["last_write"] or "",
                    ]
                    for r in self.runs
                ],
            )
            out.append("")
        if self.models:
            arms = [a for a in ARMS if any(m["answered"].get(a) for m in self.models)]
            out.append("Answered responses per arm")
            out += _table(
                ["model", "lab", *arms, "failed"],
                [[m["model"], m["lab"], *[m["answered"].get(a, 0) for a in arms], m["failed"]] for m in self.models],
            )
            out.append("")
        if self.failed:
            out.append("Failed (stored only as API errors; the next rerun asks again)")
            out += _table(
                ["model", "arm", "error", "responses"],
                [[f["model"], f["arm"], f["error_class"], f["n"]] for f in self.failed],
            )
            out.append("")
        out.append(f"Next rerun (specs in {self.experiments}/; status sends nothing)")
        if self.spec_error:
            out.append(f"  cannot plan: {self.spec_error}")
        for p in self.plans:
            out.append("  " + p.describe())
        if self.plans:
            pending = sum(sum(p.missing.values()) for p in self.plans)
            out.append(
                f"  pending: {pending} cells never stored; failed: {sum(sum(p.failed.values()) for p in self.plans)} "
                f"cells stored only as errors"
            )
            out.append("  then: build the warehouse and refresh data/outputs/ (analyses, figures, validation, report)")
        out.append("")
        if self.quarantined_shards:
            out += _quarantined_lines(self.quarantined_shards)
            out.append("")
        out.append(_lock_line(self.lock))
        out.append(_last_rerun_line(self.last_rerun))
        return "\n".join(out)


def status(paths: Paths, experiments: Path) -> Status:
    responses = paths.stored(paths.responses)  # the local folder, or its twin in the bucket
    try:
        plans, spec_error = _plans(responses, experiments)
        runs, models, failed, totals = _shards(responses)
        warehouse = _warehouse(paths)
    except UnreadableStore as exc:
        raise StatusError(f"cannot read the shards under {responses}: {exc.reason}; {REPAIR_HINT}") from None
    except (duckdb.Error, StorageError) as exc:
        raise StatusError(
            f"cannot read the shards under {responses}: {str(exc).splitlines()[0]}; {REPAIR_HINT}"
        ) from None
    return Status(
        warehouse=warehouse,
        responses=totals,
        runs=runs,
        models=models,
        failed=failed,
        plans=plans,
        spec_error=spec_error,
        lock=_lock(paths),
        last_rerun=_last_rerun(paths),
        experiments=experiments,
        quarantined_shards=quarantined(paths),
    )


def _plans(responses: Path | str, experiments: Path) -> tuple[list[SpecPlan], str | None]:
    try:
        configs = load_configs(experiments)
    except SpecError as exc:
        return [], str(exc)
    state = load_state(responses)
    return [plan(spec, config, state) for spec, config in configs], None


def _warehouse(paths: Paths) -> dict[str, Any]:
    w = paths.warehouse
    if not w.exists():
        return {"path": str(w), "exists": False}
    built = w.stat().st_mtime
    size = sum(f.stat().st_size for f in (w, w.with_name(w.name + ".wal")) if f.exists())
    return {
        "path": str(w),
        "exists": True,
        "size_bytes": size,
        "built_at": _iso(built),
        "shards_newer_than_build": modified_since(paths.stored(paths.raw), built),
    }


def _shards(responses: Path | str) -> tuple[list, list, list, dict[str, Any]]:
    """Runs, per-model answered counts by arm, and failed cells, straight from the response shards (a local
    folder, or an s3:// one)."""
    totals = {"path": str(responses), "files": 0, "responses": 0, "answered": 0, "failed": 0, "runs": 0}
    con = duckdb.connect(config={"memory_limit": "1GB", "threads": 2})
    try:
        if isinstance(responses, str):
            table = read_columns(responses, RESPONSE_SCHEMA, list(STATUS_COLUMNS), filename=True)
            if not table.num_rows:
                return [], [], [], totals
            con.register("bucket_rows", table)
            source = "bucket_rows"
        elif has_shards(responses):
            glob = str(responses / "**" / "*.parquet").replace("'", "''")
            source = f"read_parquet('{glob}', union_by_name = true, hive_partitioning = false, filename = true)"
        else:
            return [], [], [], totals
        columns = {r[0] for r in con.execute(f"describe select * from {source}").fetchall()}
        opt = {c: c if c in columns else "null" for c in ("created_at", "error_class")}
        con.execute(
            f"""
            create temp table rows as
            select response_id, run_id, source, model, arm, error is null as ok,
                   {opt["error_class"]}::varchar as error_class, {opt["created_at"]}::timestamptz as created_at,
                   filename
            from {source}
            """
        )
        con.execute(
            "create temp table cells as select response_id, any_value(model) as model, any_value(arm) as arm, "
            "bool_or(ok) as ok, arg_max(error_class, created_at) as error_class from rows group by response_id"
        )
        runs = con.execute(
            f"""
            select run_id, any_value(source), list(distinct model order by model), count(*), count_if(not ok),
                   min(created_at), max(created_at)
            from rows group by run_id order by max(created_at) desc nulls last, run_id desc limit {RUNS_SHOWN}
            """
        ).fetchall()
        per_arm = con.execute(
            "select model, arm, count_if(ok), count_if(not ok) from cells group by all order by all"
        ).fetchall()
        failed = con.execute(
            "select model, arm, coalesce(error_class, 'api_error'), count(*) from cells where not ok "
            "group by all order by all"
        ).fetchall()
        files, n_runs = con.execute("select count(distinct filename), count(distinct run_id) from rows").fetchone()
        # over no rows (only the folder's schema.parquet) count_if is NULL, not 0
        answered, n_failed = con.execute(
            "select coalesce(count_if(ok), 0), coalesce(count_if(not ok), 0) from cells"
        ).fetchone()
    finally:
        con.close()
    totals.update(files=files, responses=answered + n_failed, answered=answered, failed=n_failed, runs=n_runs)
    models: dict[str, dict[str, Any]] = {}
    for model, arm, ok, bad in per_arm:
        entry = models.setdefault(model, {"model": model, "lab": _lab(model), "answered": {}, "failed": 0})
        entry["answered"][arm] = ok
        entry["failed"] += bad
    return (
        [
            {
                "run_id": r,
                "source": s,
                "models": m,
                "responses": n,
                "errors": e,
                "first_write": _iso(a),
                "last_write": _iso(b),
            }
            for r, s, m, n, e, a, b in runs
        ],
        list(models.values()),
        [{"model": m, "arm": a, "error_class": c, "n": n} for m, a, c, n in failed],
        totals,
    )


def _lab(model: str) -> str:
    entry = lookup(model)
    return entry.lab if entry else "unregistered"


def _lock(paths: Paths) -> dict[str, Any] | None:
    holder = RerunLock(paths.data).holder()
    if holder is None:
        return None
    return {"pid": holder.pid, "host": holder.host, "started_at": holder.started_at, "alive": holder.is_alive()}


def _last_rerun(paths: Paths) -> dict[str, Any] | None:
    try:
        return json.loads((paths.logs / LAST_RERUN).read_text())
    except (FileNotFoundError, ValueError):
        return None


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value, timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds")


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def _warehouse_line(w: dict[str, Any]) -> str:
    if not w["exists"]:
        return f"Warehouse  {w['path']}: not built yet (run `evalhouse build` or `evalhouse rerun`)"
    fresh = (
        "up to date with the shards"
        if not w["shards_newer_than_build"]
        else f"{w['shards_newer_than_build']} shard(s) newer than the build; `evalhouse build` brings them in"
    )
    return f"Warehouse  {w['path']}: {_size(w['size_bytes'])}, last built {w['built_at']}; {fresh}"


def _responses_line(r: dict[str, Any]) -> str:
    if not r["files"]:
        return f"Responses  {r['path']}: none stored yet"
    return (
        f"Responses  {r['path']}: {r['responses']} in {r['files']} shard(s) from {r['runs']} run(s); "
        f"{r['answered']} answered, {r['failed']} failed"
    )


def _quarantined_lines(shards: list[dict[str, Any]]) -> list[str]:
    out = [f"Set aside ({len(shards)} unreadable shard(s), moved by `evalhouse repair`; nothing reads them)"]
    for s in shards:
        lost = s.get("lost_ids")
        known = s.get("known_ids")
        what = (
            f"{len(lost)} responses lost, {s.get('rebuilt', 0)} written again from the journal"
            if lost is not None and known
            else f"{s.get('rebuilt', 0)} responses written again from the journal"
            if s.get("table") == "responses"
            else ""
        )
        when = f" on {s['set_aside_at']}" if s.get("set_aside_at") else ""
        out.append(f"  {s['moved_to']}{when}: {s.get('reason', '')}" + (f"; {what}" if what else ""))
    return out


def _lock_line(lock: dict[str, Any] | None) -> str:
    if lock is None:
        return "Lock       free"
    if lock["alive"]:
        return (
            f"Lock       a rerun is running: pid {lock['pid']} on {lock['host']} since {lock['started_at']} "
            "(another rerun would exit 75 until it ends)"
        )
    return (
        f"Lock       stale: pid {lock['pid']} (started {lock['started_at']}) was killed; "
        "the next rerun recovers the lock and resumes its work"
    )


def _last_rerun_line(last: dict[str, Any] | None) -> str:
    if last is None:
        return "Last rerun none recorded"
    return (
        f"Last rerun {last['started_at']} → {last['finished_at']}: exit {last['exit_code']} ({last['outcome']}); "
        f"log {last['log_file']}"
    )


def _table(headers: list[str], rows: list[list[Any]]) -> list[str]:
    cells = [[str(h) for h in headers]] + [[str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [all(isinstance(row[i], int) for row in rows) for i in range(len(headers))]
    return [
        "  " + "  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(r, widths, numeric)).rstrip()
        for r in cells
    ]
