"""What the sandbox costs per program: run_code in each cage this user can build, against a plain
`python -S -c` subprocess of the same interpreter, measured in the same run. Also the throughput of
2 parallel workers.

    .venv/bin/python bench/bench_sandbox.py [--runs 40]              # as yourself (root: namespaces)
    .venv/bin/python bench/bench_sandbox.py --runs 40 --as-nobody    # as root: rerun as nobody (userns)

--as-nobody copies the sandbox's modules and pyseccomp to a world-readable folder and reruns this script
there as nobody (setpriv), under an interpreter nobody can run: the unprivileged user-namespace cage.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from evalhouse.ingest.sandbox import Limits, best_cage, run_code

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


def rerun_as_nobody(runs: int) -> None:
    """This benchmark again, as nobody, from a copy that user can read."""
    import pyseccomp

    from evalhouse.ingest import sandbox, sandbox_child, sandbox_seccomp

    base = Path(tempfile.mkdtemp(prefix="evalhouse-bench-"))
    try:
        lib = base / "evalhouse" / "ingest"
        lib.mkdir(parents=True)
        for init in (base / "evalhouse" / "__init__.py", lib / "__init__.py"):
            init.touch()
        for module in (sandbox, sandbox_child, sandbox_seccomp):
            shutil.copy(module.__file__, lib)
        shutil.copy(pyseccomp.__file__, base)
        shutil.copy(__file__, base)
        for path in [base, *base.rglob("*")]:
            path.chmod(0o755)
        python = next(p for p in ("/usr/bin/python3", "/usr/local/bin/python3") if os.path.exists(p))
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", python, "-s"]
        command += [str(base / "bench_sandbox.py"), "--runs", str(runs)]
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(base)}
        subprocess.run(command, env=env, cwd=base, check=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--as-nobody", action="store_true")
    args = parser.parse_args()
    if args.as_nobody:
        rerun_as_nobody(args.runs)
        return
    cage, why = best_cage()
    variants = {
        "plain": lambda: subprocess.run([sys.executable, "-S", "-c", PROGRAM], capture_output=True, check=True),
        f"run_code, {cage} + seccomp": lambda: run_code(PROGRAM, Limits(unsafe=True)),
        f"run_code, {cage}, no filter": lambda: run_code(PROGRAM, Limits(unsafe=True, seccomp=False)),
        "run_code, basic + seccomp": lambda: run_code(PROGRAM, Limits(isolation="basic")),
    }
    times = timed(variants, args.runs)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda _: run_code(PROGRAM, Limits(unsafe=True)), range(args.runs)))
    parallel = args.runs / (time.perf_counter() - start)
    base = statistics.median(times.pop("plain"))
    print(f"user {os.geteuid()}, {sys.executable} {sys.version.split()[0]}, best cage: {cage} {why}")
    print(f"runs per variant: {args.runs}")
    print(f"{'plain python -S subprocess (baseline)':38} median {base:7.1f} ms")
    for name, values in times.items():
        med, p90 = statistics.median(values), sorted(values)[int(0.9 * len(values))]
        print(f"{name:38} median {med:7.1f} ms   p90 {p90:7.1f} ms   ratio {med / base:4.2f}x")
    print(f"{'2 workers, ' + cage + ' + seccomp':38} {parallel:7.1f} programs/s")


if __name__ == "__main__":
    main()
