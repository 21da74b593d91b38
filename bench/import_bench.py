"""Legacy import speed: `evalhouse ingest import` against loading the same files with pandas.

Both run in this same invocation, one after the other, each in its own process so that its peak
memory (max RSS) is its own. The baseline only loads: every file into a DataFrame with
`pandas.read_json(lines=True)` (res.jsonl) or `pandas.read_csv` (CSVs), one file at a time, nothing
kept. The import does everything: detection, checks, quarantine, one response per arm that ran,
answer extraction and normalisation, regrading, Parquet shards written and synced.

    python bench/import_data.py --gb 1.0 --out /tmp/legacy-1gb
    python bench/import_bench.py /tmp/legacy-1gb/jsonl [--repeat 1]

The machine is shared: the load average is printed before and after; compare the ratio, which both
measurements share, rather than absolute times.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

PANDAS = """
import sys, pandas as pd
from pathlib import Path
rows = 0
for path in sorted(Path(sys.argv[1]).rglob('*')):
    if path.name.endswith('.jsonl'):
        rows += len(pd.read_json(path, lines=True))
    elif path.name.endswith('.csv'):
        rows += len(pd.read_csv(path))
print(rows)
"""


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout of one child process, measured with wait4."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        actions = [(os.POSIX_SPAWN_DUP2, out.fileno(), 1), (os.POSIX_SPAWN_DUP2, err.fileno(), 2)]
        start = time.perf_counter()
        pid = os.posix_spawn(cmd[0], cmd, env if env is not None else dict(os.environ), file_actions=actions)
        _, status, usage = os.wait4(pid, 0)
        elapsed = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{err.read().decode()[-2000:]}")
        return elapsed, usage.ru_maxrss / 1024, out.read().decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="folder of legacy files (see bench/import_data.py)")
    parser.add_argument("--repeat", type=int, default=1, help="alternate baseline and import this many times")
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory limit for the import [2GB]")
    args = parser.parse_args()
    files = [p for p in args.data.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    print(f"data: {args.data} — {len(files)} files, {size / 1e9:.3f} GB")
    print(f"load average before: {os.getloadavg()}")
    evalhouse = str(Path(sys.executable).parent / "evalhouse")
    results = []
    for _ in range(args.repeat):
        base_s, base_mib, rows = measure([sys.executable, "-c", PANDAS, str(args.data)])
        work = Path(tempfile.mkdtemp(prefix="evalhouse-bench-"))
        env = dict(os.environ, EVALHOUSE_DATA=str(work / "data"))
        imp_s, imp_mib, out = measure([evalhouse, "ingest", "import", str(args.data), "--no-progress", "--json",
                                       "--memory-limit", args.memory_limit], env)
        summary = json.loads(out)
        shutil.rmtree(work, ignore_errors=True)
        results.append((base_s, imp_s))
        print(f"pandas load: {base_s:7.1f} s  ({size / 1e6 / base_s:6.1f} MB/s, peak {base_mib:6.0f} MiB, "
              f"{rows.strip()} rows)")
        print(f"import:      {imp_s:7.1f} s  ({size / 1e6 / imp_s:6.1f} MB/s, peak {imp_mib:6.0f} MiB, "
              f"{summary['rows_read']} rows -> {summary['responses']} responses, reconciles={summary['reconciles']})")
        print(f"ratio:       {base_s / imp_s:7.1f}x faster than the pandas load")
    print(f"load average after: {os.getloadavg()}")
    best = max(b / i for b, i in results)
    print(f"best ratio over {len(results)} run(s): {best:.1f}x")


if __name__ == "__main__":
    main()
