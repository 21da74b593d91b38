"""Legacy import speed: `evalhouse ingest import` against loading the same files with pandas.

Both run in this same invocation, alternately (baseline, import, baseline, import, …), each in its
own process so that its time, CPU time and peak memory (max RSS) are its own. The baseline only
loads: every file into a DataFrame with `pandas.read_json(path, lines=True)` (res.jsonl) or
`pandas.read_csv(path)` (CSVs), one file at a time, nothing kept. The import does everything:
detection, checks, quarantine, one response per arm that ran, answer extraction and normalisation,
regrading, Parquet shards written and synced, manifest. Both are timed from process start to exit,
so both include importing their libraries.

    python bench/import_data.py --gb 1.0 --shape copies --out /tmp/legacy-1gb
    python bench/import_bench.py /tmp/legacy-1gb/copies [--repeat 3]

The machine may be shared: the load average is printed with every measurement, and the figure to
quote is the median ratio of the pairs, each measured back to back. The CPU-time ratio is printed
too: it does not depend on how many cores the import could use.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
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


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds (user + system), peak RSS (MiB) and stdout of one child process."""
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
        return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read().decode()


def load() -> str:
    return "load {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="folder of legacy files (see bench/import_data.py)")
    parser.add_argument("--repeat", type=int, default=1, help="pairs of measurements (baseline, import) [1]")
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory limit for the import [2GB]")
    args = parser.parse_args()
    files = [p for p in args.data.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    print(f"data: {args.data} — {len(files)} files, {size / 1e9:.3f} GB; {os.cpu_count()} cores")
    evalhouse = str(Path(sys.executable).parent / "evalhouse")
    pairs = []
    for _ in range(args.repeat):
        before = load()
        base_s, base_cpu, base_mib, rows = measure([sys.executable, "-c", PANDAS, str(args.data)])
        print(
            f"pandas load: {base_s:7.1f} s  ({size / 1e6 / base_s:6.1f} MB/s, CPU {base_cpu:6.1f} s, "
            f"peak {base_mib:5.0f} MiB, {rows.strip()} rows)  [{before}]"
        )
        work = Path(tempfile.mkdtemp(prefix="evalhouse-bench-"))
        env = dict(os.environ, EVALHOUSE_DATA=str(work / "data"))
        before = load()
        try:
            imp_s, imp_cpu, imp_mib, out = measure(
                [
                    evalhouse,
                    "ingest",
                    "import",
                    str(args.data),
                    "--no-progress",
                    "--json",
                    "--memory-limit",
                    args.memory_limit,
                ],
                env,
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
        summary = json.loads(out)
        print(
            f"import:      {imp_s:7.1f} s  ({size / 1e6 / imp_s:6.1f} MB/s, CPU {imp_cpu:6.1f} s, "
            f"peak {imp_mib:5.0f} MiB, {summary['rows_read']} rows -> {summary['responses']} responses, "
            f"reconciles={summary['reconciles']})  [{before}]"
        )
        print(
            f"ratio:       {base_s / imp_s:7.1f}x faster than the pandas load (CPU time: {base_cpu / imp_cpu:.1f}x less)"
        )
        pairs.append((base_s / imp_s, base_cpu / imp_cpu))
    print(f"{load()} after")
    wall, cpu = statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)
    print(
        f"median over {len(pairs)} pair(s): {wall:.1f}x faster (range {min(p[0] for p in pairs):.1f}–"
        f"{max(p[0] for p in pairs):.1f}x); CPU time {cpu:.1f}x less"
    )


if __name__ == "__main__":
    main()
