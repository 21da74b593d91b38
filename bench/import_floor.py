"""The floor under a legacy import: the CPU that the steps no import can skip cost on their own.

    python bench/import_floor.py /tmp/legacy-1gb/copies

Each step runs alone, on one DuckDB thread, over all the res.jsonl files of DATA, and prints its CPU
seconds (user + system) next to pandas' load of the same files (the baseline of import_bench.py):

- read: DuckDB's `read_json` of every key an import keeps, counted; then the same into Arrow;
- answers: the answer SQL of `importers.answers` over the three reply arms (already in memory);
- text out: the responses' prompt and reply text (one row per arm) out of DuckDB, ordered by run;
- shards: the responses an import wrote, written again by `pyarrow` with the import's options, one
  Parquet file per run as the import does, then as one single file;
- startup: a Python process importing duckdb, pyarrow and click, then one running `evalhouse --help`.

An import cannot cost less than the sum of these, whatever its design; the ratio printed at the end is
the best the baseline could be beaten by in CPU time.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from evalhouse.config import Paths
from evalhouse.ingest.importers import Options, answers, import_paths
from evalhouse.ingest.importers.output import response_write_options
from evalhouse.ingest.importers.res_jsonl import KEYS
from evalhouse.ingest.importers.schemas import IMPORT_RESPONSE_SCHEMA

ARMS = ("nl", "sim", "controlsim", "code")


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_cpu(cmd: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def step(name: str, work) -> float:
    start = cpu()
    work()
    used = cpu() - start
    print(f"{name:38s} CPU {used:7.2f} s")
    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path)
    args = parser.parse_args()
    files = sorted(str(p) for p in args.data.rglob("*.jsonl"))
    print(
        f"data: {args.data} — {len(files)} res.jsonl files, {sum(Path(f).stat().st_size for f in files) / 1e9:.3f} GB"
    )
    pandas = child_cpu(
        [sys.executable, "-c", "import sys, pandas as pd\nfor f in sys.argv[1:]: pd.read_json(f, lines=True)", *files]
    )
    print(f"{'pandas load (baseline)':38s} CPU {pandas:7.2f} s")

    con = duckdb.connect(config={"threads": 1, "memory_limit": "2GB"})
    columns = "{" + ", ".join(f"'{k}': 'VARCHAR'" for k in KEYS) + "}"
    source = f"read_json({files}, format = 'newline_delimited', columns = {columns}, maximum_object_size = 33554432)"
    step("read: read_json, counted", lambda: con.execute(f"select count(*) from {source}").fetchall())
    floor = step("read: read_json into DuckDB", lambda: con.execute(f"create temp table rec as select * from {source}"))
    replies = " union all ".join(f"select 0 as aid, kind, {arm}_answer as text from rec" for arm in ARMS[:3])
    floor += step(
        "answers: SQL over the reply arms",
        lambda: con.execute(f"select count(answer_json) from ({answers.reply_answers_sql(f'({replies})')})").fetchall(),
    )
    text = (
        f"select exp_id, model, unnest([{', '.join(f'{a}_question' for a in ARMS)}]) as prompt, "
        f"unnest([{', '.join(f'{a}_answer' for a in ARMS)}]) as response_text from rec order by exp_id, model"
    )
    floor += step("text out: prompts and replies to Arrow", lambda: con.execute(text).to_arrow_table())
    con.close()

    root = Path(tempfile.mkdtemp(prefix="evalhouse-floor-"))
    try:
        paths = Paths(root / "data", root / "w.duckdb")
        import_paths([args.data], paths, Options(progress=False))
        shards = [pq.read_table(p) for p in sorted(paths.responses.rglob("*.parquet"))]
        options = response_write_options(IMPORT_RESPONSE_SCHEMA)
        out = root / "again"
        out.mkdir()
        floor += step(
            f"shards: {len(shards)} per-run Parquet files",
            lambda: [pq.write_table(t, out / f"{i}.parquet", **options) for i, t in enumerate(shards)],
        )
        whole = pa.concat_tables(shards)
        step("shards: the same rows as one file", lambda: pq.write_table(whole, out / "all.parquet", **options))
    finally:
        shutil.rmtree(root, ignore_errors=True)

    libs = child_cpu([sys.executable, "-c", "import duckdb, pyarrow.parquet, click"])
    print(f"{'startup: duckdb + pyarrow + click':38s} CPU {libs:7.2f} s")
    cli = child_cpu([str(Path(sys.executable).parent / "evalhouse"), "--help"])
    print(f"{'startup: evalhouse --help':38s} CPU {cli:7.2f} s")
    floor += libs
    print(
        f"floor (read into DuckDB + answers + text out + shards + libraries): CPU {floor:.2f} s; "
        f"pandas / floor = {pandas / floor:.1f}x"
    )


if __name__ == "__main__":
    main()
