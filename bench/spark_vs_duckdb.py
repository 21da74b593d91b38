"""The same dbt models on DuckDB and on local Spark: full-build wall time at several sizes, as ratios.

For each size it generates deterministic shards (bench/gen_shards.py, shared with bench/dbt_build.py)
unless they exist, then times, each as its own process (`evalhouse build`), a full DuckDB build and a
Spark build (`--target spark`, local master on every core) of the same shards. A Spark build of an
empty data folder measures Spark's fixed cost (JVM, metastore, ~55 dbt nodes); with it the marginal
cost per million responses of each engine follows, and from those where a cluster of k times the
cores would overtake one DuckDB process.

    python bench/spark_vs_duckdb.py --sizes 100000,1000000 --root /tmp/evalhouse-bench
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import gen_shards
from dbt_build import BIN, run


def timed_build(data: Path, out: Path, target: str, memory: str) -> float:
    env = {
        **os.environ,
        "EVALHOUSE_DATA": str(data),
        "EVALHOUSE_WAREHOUSE": str(out / "evalhouse.duckdb"),
        "EVALHOUSE_SPARK_WAREHOUSE": str(out / "spark"),
        "EVALHOUSE_SPARK_MEMORY": memory,
    }
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(BIN / "evalhouse"), "build", "--target", target]
    cmd += ["--full-refresh", "--memory-limit", memory] if target == "local" else []
    seconds, _rss, _ = run(cmd, env)
    shutil.rmtree(out, ignore_errors=True)
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated response counts")
    ap.add_argument("--root", type=Path, default=Path("/tmp/evalhouse-bench"), help="where data and warehouses go")
    ap.add_argument("--memory", default="2g", help="DuckDB memory limit and Spark driver memory")
    args = ap.parse_args()
    args.root.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at start")
    empty = args.root / "data-empty"
    (empty / "raw").mkdir(parents=True, exist_ok=True)
    fixed_duck = timed_build(empty, args.root / "wh-cmp", "local", args.memory)
    fixed_spark = timed_build(empty, args.root / "wh-cmp", "spark", args.memory)
    print(
        f"empty data folder (fixed cost): DuckDB {fixed_duck:.1f}s, Spark {fixed_spark:.1f}s "
        f"= {fixed_spark / fixed_duck:.1f}×"
    )
    points = []
    for n in (int(s) for s in args.sizes.split(",")):
        data = args.root / f"data-{n}"
        if not (data / "raw" / "responses").exists():
            print(f"generating {n:,} responses into {data} …", flush=True)
            gen_shards.write(data, n, shard_rows=10000, append_pct=0, threads=2, memory="2GB")
        duck = timed_build(data, args.root / "wh-cmp", "local", args.memory)
        spark = timed_build(data, args.root / "wh-cmp", "spark", args.memory)
        points.append((n, duck, spark))
        print(
            f"{n:>10,} responses: DuckDB {duck:6.1f}s, Spark {spark:6.1f}s = Spark takes {spark / duck:.1f}× "
            f"(above the fixed cost: DuckDB {duck - fixed_duck:.1f}s, Spark {spark - fixed_spark:.1f}s)",
            flush=True,
        )
    n, duck, spark = points[-1]
    per_m_duck = max(duck - fixed_duck, 1e-9) / n * 1e6
    per_m_spark = max(spark - fixed_spark, 1e-9) / n * 1e6
    print(
        f"marginal cost per million responses: DuckDB {per_m_duck:.1f}s, local Spark {per_m_spark:.1f}s "
        f"({per_m_spark / per_m_duck:.1f}× DuckDB's on the same cores)"
    )
    for k in (4, 16, 64):
        gain = per_m_duck - per_m_spark / k
        if gain <= 0:
            print(f"a cluster with {k}× these cores: never overtakes one DuckDB process")
        else:
            print(
                f"a cluster with {k}× these cores overtakes one DuckDB process above "
                f"~{(fixed_spark - fixed_duck) / gain:.1f} million responses (same per-core speed assumed)"
            )
    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at the end")


if __name__ == "__main__":
    main()
