"""`evalhouse build`: run dbt into a new warehouse file and swap it in.

The warehouse is derived from `data/` and the dbt seeds, so a build can write a fresh file next to the
old one and rename it into place. A user reading the old file in the DuckDB shell keeps reading it (the
rename does not touch the open inode) and never sees a half-built warehouse; a failed build leaves the
old file untouched.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from .config import Paths, dbt_project_dir


class BuildError(Exception):
    pass


@dataclass(frozen=True)
class BuildResult:
    warehouse: Path
    seconds: float
    log: str


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("dbt")
    if not found:
        raise BuildError("dbt is not installed in this environment (pip install dbt-duckdb)")
    return found


def build(paths: Paths, project_dir: Path | None = None, select: str | None = None, quiet: bool = True) -> BuildResult:
    project = project_dir or dbt_project_dir()
    warehouse = paths.warehouse
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(warehouse) + ".build.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise BuildError(
            f"another `evalhouse build` is writing {warehouse} (lock {lock.lock_file}); wait for it to finish"
        ) from None
    try:
        return _build_locked(paths, project, select, quiet)
    finally:
        lock.release()


def _build_locked(paths: Paths, project: Path, select: str | None, quiet: bool) -> BuildResult:
    warehouse = paths.warehouse
    # A fixed name (the lock makes it ours) keeps the profile stable, so dbt can reuse its partial parse.
    tmp = warehouse.with_name(f".{warehouse.name}.building")
    for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
        leftover.unlink(missing_ok=True)
    env = dict(os.environ)
    env.update(
        EVALHOUSE_BUILD_PATH=str(tmp),
        EVALHOUSE_DATA=str(paths.data),
        EVALHOUSE_WAREHOUSE=str(warehouse),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    cmd = [
        dbt_executable(), "build",
        "--project-dir", str(project),
        "--profiles-dir", env.get("DBT_PROFILES_DIR", str(project)),
        # dbt's artefacts live beside the warehouse they describe, so two warehouses never share a
        # partial-parse cache and an installed project's folder is never written to.
        "--target-path", str(warehouse.parent / ".dbt" / "target"),
        "--log-path", str(warehouse.parent / ".dbt" / "logs"),
    ]
    if quiet:
        cmd.append("--quiet")
    if select:
        cmd += ["--select", select]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise BuildError("dbt build failed:\n" + (proc.stdout + proc.stderr).strip()[-4000:])
    os.replace(tmp, warehouse)
    return BuildResult(warehouse, seconds, proc.stdout)
