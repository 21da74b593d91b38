"""Warehouse build benchmark: full and incremental `evalhouse build` against the baselines of issue 17.

For each size it generates deterministic shards (bench/gen_shards.py) unless they exist, then times, as
separate processes with their peak memory (max RSS, DuckDB included), in one run:

  F  `dbt build` of a 1-model dbt-duckdb project on the same dbt: what any dbt build costs;
  P  the project's own SQL without dbt: every model's compiled SQL (from `dbt compile`) run straight in
     DuckDB, in order, as `create table/view … as`, seeds read from their CSV files;
  E  `evalhouse build --full-refresh` of an empty data folder (every node, no rows);
  a full `evalhouse build --full-refresh` (dbt reuses its parse, as every later build does);
  after 1% new responses (new shards, plus retries that replace stored errors), an incremental
  `evalhouse build`, and a full rebuild of the same data into a second file, checking that the two
  warehouses are identical table by table;

and prints each figure against its target: full ≤ F + 1.5·P + 2.5 s; incremental ≤ F + 2.5 s, identical
to a rebuild; empty ≤ F + 2 s; at 10M, ≤ 40 s and ≤ 6 GB.

    python bench/dbt_build.py --sizes 100000,1000000 --root /tmp/evalhouse-bench
    python bench/dbt_build.py --sizes 10000000 --memory-limit 4GB --root /tmp/evalhouse-bench

The appended shards are removed at the end, so the data can be reused by the next run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

import gen_shards

from tests.warehouse_data import differences

BIN = Path(sys.executable).parent


def run(cmd: list[str], env: dict[str, str], cwd: Path = REPO) -> tuple[float, float, str, float]:
    """Wall seconds, peak RSS in GB, output and CPU seconds (user + system) of one process.

    CPU time is what a loaded machine does not inflate: on an idle 2-core machine the wall time of a
    build that keeps both cores busy is about half of it."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    out = proc.stdout.read()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out[-3000:]}")
    return seconds, usage.ru_maxrss / 2**20, out.strip(), usage.ru_utime + usage.ru_stime


def env_for(data: Path, warehouse: Path, state: Path) -> dict[str, str]:
    return {
        **os.environ,
        "EVALHOUSE_DATA": str(data),
        "EVALHOUSE_WAREHOUSE": str(warehouse),
        "EVALHOUSE_DBT_STATE": str(state),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def build(data: Path, warehouse: Path, memory: str, full: bool, state: Path) -> tuple[float, float, str, float]:
    # one dbt state folder for the builds of a run, as one user's project has: the first build parses the
    # project, the others reuse dbt's partial parse
    cmd = [str(BIN / "evalhouse"), "build", "--memory-limit", memory] + (["--full-refresh"] if full else [])
    return run(cmd, env_for(data, warehouse, state))


def slowest_nodes(state: Path, n: int = 4) -> str:
    log = (state / "logs" / "dbt.log").read_text().split("Running with dbt")[-1]
    found = re.findall(r"\d+ of \d+ (?:OK created|PASS) (?:sql \w+ model |test )?([\w.:]+).*?in ([\d.]+)s\]", log)
    top = sorted(((float(t), name) for name, t in found), reverse=True)[:n]
    return ", ".join(f"{name} {t:.1f}s" for t, name in top)


def one_model_project(root: Path) -> float:
    """F: `dbt build` of a 1-model dbt-duckdb project (second run: its parse is saved, as ours is)."""
    project = root / "one-model"
    (project / "models").mkdir(parents=True, exist_ok=True)
    (project / "dbt_project.yml").write_text('name: one\nversion: "1.0.0"\nconfig-version: 2\nprofile: one\n')
    (project / "profiles.yml").write_text(
        "one:\n  target: local\n  outputs:\n    local:\n      type: duckdb\n      path: one.duckdb\n      threads: 2\n"
    )
    (project / "models" / "one.sql").write_text("select 1 as x\n")
    cmd = [str(BIN / "dbt"), "build", "--profiles-dir", str(project), "--project-dir", str(project)]
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    run(cmd, env, cwd=project)
    return min(run(cmd, env, cwd=project)[0] for _ in range(2))


PLAIN = """
import json, sys, time
import duckdb
manifest, database, seeds, memory, temp = sys.argv[1:6]
nodes = json.load(open(manifest))["nodes"]
con = duckdb.connect(database)
con.execute(f"set memory_limit = '{memory}'; set temp_directory = '{temp}'")
con.execute("set disabled_compression_methods = 'fsst,dict_fsst'; set preserve_insertion_order = false")
con.execute("set parquet_metadata_cache = true")
for node in json.load(open(seeds)):
    con.execute(f"create schema if not exists {node['schema']}")
    con.execute(f"create table {node['schema']}.{node['name']} as select * from read_csv('{node['path']}', header = true)")
for uid in json.load(open(manifest.replace('manifest.json', 'order.json'))):
    node = nodes[uid]
    kind = "view" if node["config"]["materialized"] == "view" else "table"
    con.execute(f"create schema if not exists {node['schema']}")
    con.execute(f"create {kind} {node['schema']}.{node['name']} as {node['compiled_code']}")
con.close()
"""


def plain_pipeline(data: Path, root: Path, memory: str) -> tuple[float, float, float]:
    """P: the project's compiled SQL run straight in DuckDB (wall s, peak GB, CPU s)."""
    scratch = root / "plain"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    target = scratch / "target"
    env = env_for(data, scratch / "compile.duckdb", scratch)
    env["EVALHOUSE_BUILD_PATH"] = str(scratch / "compile.duckdb")
    run(
        [str(BIN / "dbt"), "compile", "--target-path", str(target), "--log-path", str(scratch / "logs"), "--quiet"],
        env,
    )
    manifest = json.loads((target / "manifest.json").read_text())
    models = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    order, seen = [], set()

    def visit(uid: str) -> None:
        if uid in seen or uid not in models:
            return
        seen.add(uid)
        for parent in models[uid]["depends_on"]["nodes"]:
            visit(parent)
        order.append(uid)

    for uid in sorted(models):
        visit(uid)
    (target / "order.json").write_text(json.dumps(order))
    seeds = [
        {"schema": n["schema"], "name": n["name"], "path": str(REPO / n["original_file_path"])}
        for n in manifest["nodes"].values()
        if n["resource_type"] == "seed"
    ]
    (target / "seeds.json").write_text(json.dumps(seeds))
    database = scratch / "run" / "compile.duckdb"  # the compiled SQL names its catalog after the file
    database.parent.mkdir()
    seconds, rss, _, cpu = run(
        [
            str(BIN / "python"),
            "-c",
            PLAIN,
            str(target / "manifest.json"),
            str(database),
            str(target / "seeds.json"),
            memory,
            str(scratch / "tmp"),
        ],
        env,
    )
    shutil.rmtree(scratch, ignore_errors=True)
    return seconds, rss, cpu


def empty_build(root: Path, state: Path) -> float:
    """E: a full build with no shards at all (every node, no rows)."""
    empty, warehouse = root / "data-empty", root / "wh-empty" / "evalhouse.duckdb"
    (empty / "raw").mkdir(parents=True, exist_ok=True)
    build(empty, warehouse, "1GB", True, state)  # parses the project, if this state has not yet
    return min(build(empty, warehouse, "1GB", True, state)[0] for _ in range(2))


def remove_append(data: Path, tag: str) -> None:
    for path in [*data.glob(f"raw/responses/*/run_id={tag}"), data / "raw" / "problems" / f"{tag}.parquet"]:
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    shutil.rmtree(data / "raw" / "answers" / "responses", ignore_errors=True)


def verdict(seconds: float, target: float) -> str:
    return f"target ≤ {target:.1f}s: {'met' if seconds <= target else 'NOT met'}"


def bench_size(n: int, root: Path, memory: str) -> None:
    data = root / f"data-{n}"
    if not (data / "raw" / "responses").exists():
        print(f"generating {n:,} responses into {data} …", flush=True)
        gen_shards.write(data, n, shard_rows=10000, append_pct=0, threads=2, memory="2GB")
    tag = "bench-append-1"
    remove_append(data, tag)
    shards = sum(1 for _ in data.glob("raw/responses/**/part-*.parquet"))
    size = sum(p.stat().st_size for p in data.glob("raw/**/*.parquet")) / 2**30
    print(f"\n== {n:,} responses: {shards} shards, {size:.2f} GB of Parquet (memory limit {memory})", flush=True)
    state = root / "dbt-state"
    shutil.rmtree(state, ignore_errors=True)
    f = one_model_project(root)
    p, p_rss, p_cpu = plain_pipeline(data, root, memory)
    e = empty_build(root, state)
    print(f"F  dbt build of a 1-model dbt-duckdb project: {f:.2f}s")
    print(f"P  the project's compiled SQL straight in DuckDB: {p:.2f}s (CPU {p_cpu:.2f}s), peak {p_rss:.2f} GB")
    print(f"E  evalhouse build of an empty data folder: {e:.2f}s = F + {e - f:.2f}s  ({verdict(e, f + 2)})")

    main_wh = root / f"wh-{n}" / "evalhouse.duckdb"
    check_wh = root / f"wh-{n}-check" / "evalhouse.duckdb"
    first_t, first_rss, out, first_cpu = build(data, main_wh, memory, True, state)
    print(
        f"first build:        {first_t:6.2f}s  CPU {first_cpu:6.2f}s  peak {first_rss:.2f} GB  (regrade reads the legacy shards)"
    )
    full_t, full_rss, out, full_cpu = build(data, main_wh, memory, True, state)
    print(
        f"full build:         {full_t:6.2f}s  CPU {full_cpu:6.2f}s  peak {full_rss:.2f} GB  = F + {full_t - f:.2f}s = "
        f"F + {(full_t - f) / p:.2f}·P  ({verdict(full_t, f + 1.5 * p + 2.5)})  [{out}]"
    )
    print(f"   slowest nodes: {slowest_nodes(state)}")

    gen_shards.write(data, n, shard_rows=10000, append_pct=1, threads=2, memory="2GB")
    inc_t, inc_rss, out, inc_cpu = build(data, main_wh, memory, False, state)
    print(
        f"incremental (+1%):  {inc_t:6.2f}s  CPU {inc_cpu:6.2f}s  peak {inc_rss:.2f} GB  = F + {inc_t - f:.2f}s  "
        f"({verdict(inc_t, f + 2.5)})  [{out}]"
    )
    print(f"   slowest nodes: {slowest_nodes(state)}")
    again_t, again_rss, _, again_cpu = build(data, check_wh, memory, True, state)
    diff = differences(main_wh, check_wh)
    changed = {k: v for k, v in diff.items() if v}
    print(
        f"full rebuild (+1%): {again_t:6.2f}s  CPU {again_cpu:6.2f}s  peak {again_rss:.2f} GB; incremental result "
        + ("identical in all " + str(len(diff)) + " tables" if not changed else f"DIFFERS: {changed}")
    )
    if n >= 10_000_000:
        print(f"10M: full build {full_t:.1f}s ({verdict(full_t, 40)}), peak {full_rss:.2f} GB (target ≤ 6 GB)")
    remove_append(data, tag)
    shutil.rmtree(check_wh.parent)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated response counts")
    ap.add_argument("--root", type=Path, default=Path("/tmp/evalhouse-bench"), help="where data and warehouses go")
    ap.add_argument("--memory-limit", default="1GB", help="DuckDB memory limit for the builds")
    args = ap.parse_args()
    args.root.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at start")
    for n in (int(s) for s in args.sizes.split(",")):
        bench_size(n, args.root, args.memory_limit)
    load = os.getloadavg()
    print(f"\nload average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at the end")


if __name__ == "__main__":
    main()
