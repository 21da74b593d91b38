"""`evalhouse build --target spark`: the same dbt models, run by Spark over the same shards.

Spark builds in full every time (its tables are Parquet folders, with no cheap delete by key) and in
place: dbt replaces each table as it goes, so there is no file to swap in. The build lock is the same as
DuckDB's, taken on the Spark warehouse folder. Spark runs in this process (dbt-spark's `session`
method, local cores); on a cluster the `spark_thrift` target does the same work (docs/scaling.md).

Each raw folder's schema.parquet (evalhouse/raw_tables.py) is written first: Spark then never meets an
empty folder, and merges every shard's columns with it (spark.sql.parquet.mergeSchema, in the profile).
"""

from __future__ import annotations

import time
from pathlib import Path

from .build import BuildError, BuildResult, build_lock, run_dbt
from .config import Paths, dbt_project_dir
from .raw_tables import ensure_schema_shards


def build_spark(
    paths: Paths,
    project_dir: Path | None = None,
    select: str | None = None,
    quiet: bool = True,
    threads: int | None = None,
) -> BuildResult:
    """Build staging, graded and marts with Spark into the Spark warehouse folder; raise BuildError on failure."""
    start = time.perf_counter()
    if paths.data_uri:
        raise BuildError(
            "the local Spark target reads shards from a local folder; a cluster reads object storage "
            "as s3a://bucket/prefix through its own hadoop-aws (docs/scaling.md)"
        )
    project = project_dir or dbt_project_dir()
    warehouse = paths.spark_warehouse
    warehouse.mkdir(parents=True, exist_ok=True)
    with build_lock(warehouse):
        ensure_schema_shards(paths.raw)
        data = str(paths.data)
        env = {
            "EVALHOUSE_DATA": data,
            "EVALHOUSE_SPARK_WAREHOUSE": str(warehouse),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        if threads:
            env["EVALHOUSE_THREADS"] = str(threads)
        state = warehouse / ".dbt"
        args = [
            "build",
            "--target",
            "spark",
            "--project-dir",
            str(project.absolute()),
            "--profiles-dir",
            str(project.absolute()),
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
        if select:
            args += ["--select", *select.split()]
        dbt_start = time.perf_counter()
        log = run_dbt(args, env)
        timings = {"dbt": time.perf_counter() - dbt_start}
    return BuildResult(warehouse, time.perf_counter() - start, "full", "Spark builds in full", log, timings)
