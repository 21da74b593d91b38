"""What the sandbox costs per program: run_code (namespaces, and basic isolation) against a plain
`python -c` subprocess, measured in the same run. Also the throughput of 2 parallel workers.

    .venv/bin/python bench/bench_sandbox.py [--runs 40]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from evalhouse.ingest.sandbox import Limits, run_code

PROGRAM = "import json, heapq, itertools\nprint(json.dumps(sorted(heapq.nlargest(5, range(1000)))))\n"


def timed(variants: dict, runs: int) -> dict[str, list[float]]:
    """Milliseconds per call, the variants interleaved so a busy machine slows them alike."""
    out: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn()
            out[name].append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    runs = parser.parse_args().runs
    times = timed(
        {
            "plain": lambda: subprocess.run([sys.executable, "-S", "-c", PROGRAM], capture_output=True, check=True),
            "caged": lambda: run_code(PROGRAM, Limits()),
            "basic": lambda: run_code(PROGRAM, Limits(isolation="basic")),
        },
        runs,
    )
    plain, caged, basic = times["plain"], times["caged"], times["basic"]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda _: run_code(PROGRAM, Limits()), range(runs)))
    parallel = runs / (time.perf_counter() - start)
    base = statistics.median(plain)
    print(f"runs per variant: {runs}")
    print(f"plain subprocess (baseline)  median {base:7.1f} ms")
    for name, values in (("run_code, namespaces", caged), ("run_code, basic", basic)):
        med = statistics.median(values)
        print(
            f"{name:28} median {med:7.1f} ms   p90 {sorted(values)[int(0.9 * len(values))]:7.1f} ms   ratio {med / base:4.2f}x"
        )
    print(f"2 workers, namespaces        {parallel:7.1f} programs/s")


if __name__ == "__main__":
    main()
