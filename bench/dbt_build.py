"""Warehouse build benchmark: full and incremental `evalhouse build` at 100k, 1M and 10M responses.

For each size it generates deterministic shards (bench/gen_shards.py) unless they exist, then times, as
separate processes with their peak memory (max RSS of the process, DuckDB included):

  1. a first `evalhouse build` (dbt parses the project), then a full `evalhouse build --full-refresh`
     (dbt reuses its parse, as every later build of a project does);
  2. after 1% new responses (new shards, plus retries that replace stored errors), an incremental
     `evalhouse build`, and a full rebuild of the same data into a second file, checking the two
     warehouses are identical table by table;

and prints them against baselines measured in the same run: dbt's own start-up (`dbt --version`
imports), a DuckDB scan of the shards' small columns (the floor any build pays), and, up to 1M, the
straightforward SQL (every column, text included, through a dedup window) run straight in DuckDB.

    python bench/dbt_build.py --sizes 100000,1000000 --root /tmp/evalhouse-bench
    python bench/dbt_build.py --sizes 10000000 --memory-limit 4GB --root /tmp/evalhouse-bench

The appended shards are removed at the end, so the data can be reused by the next run.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

import gen_shards

from tests.warehouse_data import differences

BIN = Path(sys.executable).parent


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str, float]:
    """Wall seconds, peak RSS in GB, output and CPU seconds (user + system) of one process.

    CPU time is what a loaded machine does not inflate: on an idle 2-core machine the wall time of a
    build that keeps both cores busy is about half of it."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    out = proc.stdout.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out[-3000:]}")
    return seconds, usage.ru_maxrss / 2**20, out.strip(), usage.ru_utime + usage.ru_stime


def build(data: Path, warehouse: Path, memory: str, full: bool) -> tuple[float, float, str, float]:
    # one dbt state folder for every build of the run, as one user's project has: the first build parses
    # the project (~5 s), the others reuse dbt's partial parse
    env = {
        **os.environ,
        "EVALHOUSE_DATA": str(data),
        "EVALHOUSE_WAREHOUSE": str(warehouse),
        "EVALHOUSE_DBT_STATE": str(warehouse.parent.parent / "dbt-state"),
    }
    cmd = [str(BIN / "evalhouse"), "build", "--memory-limit", memory] + (["--full-refresh"] if full else [])
    return run(cmd, env)


def slowest_nodes(warehouse: Path, n: int = 4) -> str:
    log = (warehouse.parent.parent / "dbt-state" / "logs" / "dbt.log").read_text().split("Running with dbt")[-1]
    found = re.findall(r"\d+ of \d+ (?:OK created|PASS) (?:sql \w+ model |test )?([\w.:]+).*?in ([\d.]+)s\]", log)
    top = sorted(((float(t), name) for name, t in found), reverse=True)[:n]
    return ", ".join(f"{name} {t:.1f}s" for t, name in top)


def dbt_startup() -> float:
    return run([str(BIN / "python"), "-c", "import dbt.cli.main"], dict(os.environ))[0]


def scan_floor(data: Path) -> float:
    """Read the small columns of every shard once: what any build must at least do."""
    con = duckdb.connect()
    start = time.perf_counter()
    con.execute(
        "select count(distinct response_id), max(created_at), count(error), max(parsed_answer) "
        f"from read_parquet('{data}/raw/responses/**/*.parquet', union_by_name = true)"
    ).fetchall()
    return time.perf_counter() - start


NAIVE = """
create table graded as
with responses as (
    select * from read_parquet('{glob}', union_by_name = true)
    qualify row_number() over (partition by response_id order by (error is null) desc, created_at desc nulls last) = 1
)
select r.*, coalesce(r.parsed_answer, regexp_extract(r.response_text, '"answer"\\s*:\\s*(-?[0-9]+)', 1)) as answer,
       p.gold_answer as gold
from responses r left join read_parquet('{problems}') p using (problem_id)
"""


def naive(data: Path, memory: str, scratch: Path) -> tuple[float, float]:
    """The straightforward SQL in its own process: text carried through the dedup window."""
    db = scratch / "naive.duckdb"
    db.unlink(missing_ok=True)
    sql = NAIVE.format(glob=f"{data}/raw/responses/**/*.parquet", problems=f"{data}/raw/problems/*.parquet")
    code = (
        f"import duckdb; c = duckdb.connect({str(db)!r}); "
        f"c.execute(\"set memory_limit = '{memory}'; set temp_directory = '{scratch / 'tmp'}'\"); c.execute({sql!r})"
    )
    seconds, rss, _, _ = run([str(BIN / "python"), "-c", code], dict(os.environ))
    db.unlink(missing_ok=True)
    return seconds, rss


def fixed_cost(root: Path) -> tuple[float, float]:
    """A full build with no shards at all (every node, no rows): what a build costs before any data."""
    empty, warehouse = root / "data-empty", root / "wh-empty" / "evalhouse.duckdb"
    (empty / "raw").mkdir(parents=True, exist_ok=True)
    build(empty, warehouse, "1GB", full=True)  # parses the project, if this project has not been parsed yet
    seconds, _, _, cpu = build(empty, warehouse, "1GB", full=True)
    return seconds, cpu


def remove_append(data: Path, tag: str) -> None:
    for path in [*data.glob(f"raw/responses/*/run_id={tag}"), data / "raw" / "problems" / f"{tag}.parquet"]:
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)


def bench_size(n: int, root: Path, memory: str, with_naive: bool) -> None:
    data = root / f"data-{n}"
    if not (data / "raw" / "responses").exists():
        print(f"generating {n:,} responses into {data} …", flush=True)
        gen_shards.write(data, n, shard_rows=10000, append_pct=0, threads=2, memory="2GB")
    tag = "bench-append-1"
    remove_append(data, tag)
    shards = sum(1 for _ in data.glob("raw/responses/**/*.parquet"))
    size = sum(p.stat().st_size for p in data.glob("raw/**/*.parquet")) / 2**30
    print(f"\n== {n:,} responses: {shards} shards, {size:.2f} GB of Parquet (memory limit {memory})", flush=True)
    startup = dbt_startup()
    floor = scan_floor(data)
    print(f"baselines: dbt start-up {startup:.2f}s; DuckDB scan of the shards' small columns {floor:.2f}s")
    empty_t, empty_cpu = fixed_cost(root)
    print(
        f"baseline fixed cost: `evalhouse build --full-refresh` of an empty data folder {empty_t:.2f}s (CPU {empty_cpu:.2f}s)"
    )
    if with_naive:
        t, rss = naive(data, memory, root)
        print(f"baseline straightforward SQL (text through the dedup window, no dbt): {t:.2f}s, peak {rss:.2f} GB")

    main_wh = root / f"wh-{n}" / "evalhouse.duckdb"
    check_wh = root / f"wh-{n}-check" / "evalhouse.duckdb"
    shutil.rmtree(root / "dbt-state", ignore_errors=True)
    cold_t, cold_rss, out, cold_cpu = build(data, main_wh, memory, full=True)
    print(
        f"first build:       {cold_t:6.2f}s  CPU {cold_cpu:6.2f}s  peak {cold_rss:.2f} GB  (dbt parses the project)  [{out}]"
    )
    full_t, full_rss, out, full_cpu = build(data, main_wh, memory, full=True)
    print(
        f"full build:        {full_t:6.2f}s  CPU {full_cpu:6.2f}s  peak {full_rss:.2f} GB  = {full_t / startup:.1f}× dbt start-up, "
        f"{full_t / floor:.1f}× the scan  [{out}]"
    )
    print(f"   slowest nodes: {slowest_nodes(main_wh)}")

    gen_shards.write(data, n, shard_rows=10000, append_pct=1, threads=2, memory="2GB")
    inc_t, inc_rss, out, inc_cpu = build(data, main_wh, memory, full=False)
    print(
        f"incremental (+1%): {inc_t:6.2f}s  CPU {inc_cpu:6.2f}s  peak {inc_rss:.2f} GB  = {inc_t / full_t:.0%} of the "
        f"full build's wall time, {inc_cpu / full_cpu:.0%} of its CPU  [{out}]"
    )
    print(f"   slowest nodes: {slowest_nodes(main_wh)}")
    again_t, again_rss, _, again_cpu = build(data, check_wh, memory, full=True)
    diff = differences(main_wh, check_wh)
    changed = {k: v for k, v in diff.items() if v}
    print(
        f"full rebuild (+1%): {again_t:5.2f}s  CPU {again_cpu:6.2f}s  peak {again_rss:.2f} GB; incremental result "
        + ("identical in all " + str(len(diff)) + " tables" if not changed else f"DIFFERS: {changed}")
    )
    remove_append(data, tag)
    shutil.rmtree(check_wh.parent)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated response counts")
    ap.add_argument("--root", type=Path, default=Path("/tmp/evalhouse-bench"), help="where data and warehouses go")
    ap.add_argument("--memory-limit", default="1GB", help="DuckDB memory limit for the builds")
    ap.add_argument(
        "--naive-up-to", type=int, default=1_000_000, help="run the straightforward baseline up to this size"
    )
    args = ap.parse_args()
    args.root.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at start")
    for n in (int(s) for s in args.sizes.split(",")):
        bench_size(n, args.root, args.memory_limit, with_naive=n <= args.naive_up_to)
    load = os.getloadavg()
    print(f"\nload average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at the end")


if __name__ == "__main__":
    main()
