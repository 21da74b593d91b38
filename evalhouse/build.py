"""`evalhouse build`: run dbt into a new warehouse file and swap it in.

The warehouse is derived from `data/` and the dbt seeds, so a build writes a new file beside the old
one and renames it into place. A user reading the old file in the DuckDB shell keeps reading it (the
rename does not touch the open inode) and never sees a half-built warehouse; a failed build leaves the
old file untouched.

A build is incremental when it can be: the old file is copied and dbt runs only what is downstream of
new data, adding only the shards it has not loaded (see build_plan.py and
models/graded/graded_responses.sql). With nothing new, the warehouse is left as it is.

Only one build runs per warehouse (a file lock); a second one fails at once, naming the first. So does a
build while another process holds the warehouse open for writing, since renaming a file under a writer
would strand that writer's log: `duckdb -readonly` is the way to read while building.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

import duckdb

from .build_plan import BuildError, BuildPlan, check_footers, input_fingerprints, plan_build, project_fingerprint
from .config import Paths, dbt_project_dir
from .files import Held, fsync_path, lock, publish
from .ingest.answers.reread import UnreadableShard, regrade
from .ingest.store import REPAIR_HINT
from .raw_tables import ensure_schema_shards

__all__ = ["BuildError", "BuildPlan", "BuildResult", "build"]


@dataclass(frozen=True)
class BuildResult:
    warehouse: Path
    seconds: float
    mode: str  # "full", "incremental" or "up to date"
    reason: str
    log: str = ""
    timings: dict[str, float] = field(default_factory=dict)


def build(
    paths: Paths,
    project_dir: Path | None = None,
    select: str | None = None,
    full_refresh: bool = False,
    quiet: bool = True,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> BuildResult:
    """Build the warehouse with dbt into a new file and swap it in; raise BuildError on any failure."""
    start = time.perf_counter()
    # dbt takes a second or two to import; let that happen while this thread checks and copies files.
    importer = threading.Thread(target=import_module, args=("dbt.cli.main",), daemon=True)
    importer.start()
    project = project_dir or dbt_project_dir()
    warehouse = paths.warehouse
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with build_lock(warehouse):
        timings: dict[str, float] = {}
        raw = f"{paths.data_uri}/raw" if paths.data_uri else paths.raw
        ensure_schema_shards(raw)
        if not paths.data_uri:
            check_footers(paths.raw, since=warehouse.stat().st_mtime if warehouse.exists() and not full_refresh else 0)
        if paths.data_uri:
            # the file listing and fingerprints that make a build incremental are local-folder checks
            plan = BuildPlan(False, "shards on object storage: a full build", project_fingerprint(project))
        else:
            plan = plan_build(warehouse, project, paths.raw, full_refresh)
        if plan.up_to_date and not select:
            return BuildResult(warehouse, time.perf_counter() - start, "up to date", plan.reason)
        try:
            # an incremental build has only its new shards to read: the reader is the one the last build used
            regrade(raw, progress=not quiet, only=plan.new_shards if plan.incremental else None)
        except UnreadableShard as exc:
            raise BuildError(f"cannot build: {exc}") from None
        timings["regrade"] = time.perf_counter() - start
        tmp = _building_path(warehouse)
        _remove_database(tmp)
        if plan.incremental:
            shutil.copyfile(warehouse, tmp)
        timings["prepare"] = time.perf_counter() - start
        importer.join()
        # dbt runs in the warehouse's folder with the file named relatively: the profile then reads the
        # same for every warehouse, and dbt keeps using its saved parse (a changed profile re-parses all).
        env = {
            "EVALHOUSE_BUILD_PATH": tmp.name,
            "EVALHOUSE_DATA": paths.data_uri or str(paths.data),
            "EVALHOUSE_WAREHOUSE": str(warehouse),
            "EVALHOUSE_PROJECT_FINGERPRINT": plan.fingerprint,
            "EVALHOUSE_INPUT_FINGERPRINTS": "" if paths.data_uri else input_fingerprints(paths.raw),
            "EVALHOUSE_TEMP_DIRECTORY": ".tmp",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        if memory_limit:
            env["EVALHOUSE_MEMORY_LIMIT"] = memory_limit
        env["EVALHOUSE_THREADS"] = str(threads or os.environ.get("EVALHOUSE_THREADS") or _threads(plan))
        args = _dbt_args(project, warehouse, plan, select, quiet=quiet)
        if paths.data_uri:
            args += ["--target", "s3"]
        dbt_start = time.perf_counter()
        try:
            with _working_directory(warehouse.parent):
                log = run_dbt(args, env)
        except BuildError:
            _remove_database(tmp)
            raise
        timings["dbt"] = time.perf_counter() - dbt_start
        if not tmp.exists():  # dbt ran no node, so it never opened the new file
            what = f"--select {select!r} matched no model, seed or test" if select else "dbt ran no node"
            raise BuildError(f"{what}: nothing was built (`dbt ls --select …` lists what a selection matches)")
        swap_start = time.perf_counter()
        swap_in(tmp, warehouse)
        timings["swap"] = time.perf_counter() - swap_start
    mode = "incremental" if plan.incremental else "full"
    return BuildResult(warehouse, time.perf_counter() - start, mode, plan.reason, log, timings)


@contextmanager
def build_lock(warehouse: Path) -> Iterator[None]:
    """Hold the one build lock of this warehouse, or fail at once naming the build that holds it."""
    held = lock(Path(str(warehouse) + ".build.lock"))
    try:
        held.acquire()
    except Held as exc:
        who = exc.holder.describe() if exc.holder else "starting up"
        raise BuildError(
            f"another `evalhouse build` is building {warehouse} ({who}); wait for it to finish, then build again"
        ) from None
    try:
        yield
    finally:
        held.release()


def _threads(plan: BuildPlan) -> int:
    """dbt's threads, i.e. models built at once (DuckDB gives each query every core). A full build is a few
    heavy queries that need the memory: two at a time (four spill at 10M rows and take 20% longer). An
    incremental build is many light nodes whose cost is dbt's own Python: four keep the cores busy."""
    return 4 if plan.incremental else 2


def _building_path(warehouse: Path) -> Path:
    # A fixed name (the lock makes it ours) keeps the dbt profile stable, so dbt reuses its partial parse.
    return warehouse.with_name(f".{warehouse.name}.building")


def _remove_database(path: Path) -> None:
    for leftover in (path, Path(str(path) + ".wal")):
        leftover.unlink(missing_ok=True)


def dbt_state_dir(warehouse: Path) -> Path:
    """Where dbt keeps its artefacts for this warehouse (target/, logs/): beside it, unless
    EVALHOUSE_DBT_STATE says otherwise (warehouses that share one reuse each other's parse)."""
    return Path(os.environ.get("EVALHOUSE_DBT_STATE") or warehouse.parent / ".dbt")


def _dbt_args(project: Path, warehouse: Path, plan: BuildPlan, select: str | None, quiet: bool) -> list[str]:
    state = dbt_state_dir(warehouse).absolute()
    args = [
        "build",
        "--project-dir",
        str(project.absolute()),
        "--profiles-dir",
        os.path.abspath(os.environ.get("DBT_PROFILES_DIR", project)),
        # dbt's artefacts live beside the warehouse they describe, so two warehouses never share a
        # partial-parse cache and an installed project's folder is never written to.
        "--target-path",
        str(state / "target"),
        "--log-path",
        str(state / "logs"),
        "--no-write-json",
        "--no-version-check",
        "--log-level",
        "none" if quiet else "info",
        "--log-level-file",
        "info",
    ]
    exclude = []
    if select:
        args += ["--select", *select.split()]
    elif plan.select:
        args += ["--select", *plan.select]
        # A view reads its parents when it is queried, and its definition changes only with the project
        # (then the build is a full one): the copy of the warehouse already holds it as it should be.
        exclude.append("config.materialized:view")
    if not plan.incremental:
        args.append("--full-refresh")
    if plan.verified:
        # The same project built this warehouse before (its fingerprint says so): its unit tests, which
        # read no data, and the seeds' tests (tag project_data), which read only the project's own files,
        # passed then and cannot fail now.
        exclude += ["resource_type:unit_test", "tag:project_data"]
    if exclude:
        args += ["--exclude", *exclude]
    return args


def run_dbt(args: list[str], env: dict[str, str]) -> str:
    """Run dbt in this process (no second interpreter to start); return its summary or raise BuildError."""
    from dbt.cli.main import dbtRunner

    lines: list[str] = []

    def collect(event) -> None:  # dbt's own log lines, kept for --verbose and for error messages
        if event.info.level in ("info", "warn", "error") and event.info.msg:
            lines.append(str(event.info.msg))

    with _environment(env):
        try:
            result = dbtRunner(callbacks=[collect]).invoke(args)
        finally:
            _close_dbt_connections()
            _close_dbt_log_files()
    log = "\n".join(lines)
    if result.success:
        return log
    summary = _failure_summary(result, log)
    if "/raw/" in summary and ".parquet" in summary:  # a shard dbt could not read (damaged after it was loaded)
        summary += f"\n  if a shard under data/raw cannot be read: {REPAIR_HINT}"
    raise BuildError("dbt build failed:\n" + summary)


def _failure_summary(result, log: str) -> str:
    if result.exception is not None:
        return str(result.exception).strip()[-4000:]
    failed = []
    for r in getattr(result.result, "results", []) or []:
        if str(r.status) in ("error", "fail", "runtime error"):
            failed.append(f"  {r.node.resource_type} {r.node.name}: {str(r.message or '').strip()}")
    return ("\n".join(failed) or log[-4000:])[-4000:]


def _close_dbt_connections() -> None:
    """dbt-duckdb keeps its DuckDB instance open (keep_open); close it so the file is complete on disk."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()
            DuckDBConnectionManager._ENV = None


def _close_dbt_log_files() -> None:
    """dbt opens its log file on each in-process run and drops the previous handler unclosed when the next
    run starts: close them as each run ends, so a long process (tests, rerun) leaks no file handles."""
    from dbt_common.events.event_manager_client import get_event_manager

    for logger in get_event_manager().loggers:
        python_logger = getattr(logger, "_python_logger", None)
        for handler in getattr(python_logger, "handlers", []):
            handler.close()


@contextmanager
def _working_directory(folder: Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(old)


@contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def swap_in(tmp: Path, warehouse: Path) -> None:
    """Make the new file durable, then rename it over the old one (atomic on POSIX)."""
    wal = Path(str(tmp) + ".wal")
    if wal.exists():  # fold a leftover write-ahead log into the file before it moves
        con = duckdb.connect(str(tmp))
        con.execute("checkpoint")
        con.close()
    fsync_path(tmp)
    # a log left by a writer that crashed belongs to the old file; next to the new one it would corrupt it
    Path(str(warehouse) + ".wal").unlink(missing_ok=True)
    publish([(tmp, warehouse)])
