"""This checkout against another, interleaved in one run: the collector's CPU per response, or the endpoint's.

`--other` names the other checkout's Python and the folder to run it from (where its `evalhouse` package
resolves). With `--compare collector`, both collectors run against one endpoint (this checkout's) and their
own process CPU is read from `wait4`; with `--compare endpoint`, this checkout's collector runs against
both endpoints, each in its own process, whose CPU is read from /proc. Runs alternate (A B, B A, A B) so
a busy machine weighs on both alike.

    git archive <commit> | tar -x -C /tmp/base && ln -s ../ingest /tmp/base/evalhouse/ingest \\
        && ln -s ../analysis /tmp/base/evalhouse/analysis
    python -m venv /tmp/basevenv && echo /tmp/base > /tmp/basevenv/lib/python3.11/site-packages/base.pth \\
        && echo $PWD/.venv/lib/python3.11/site-packages >> /tmp/basevenv/lib/python3.11/site-packages/base.pth
    .venv/bin/python bench/collector_ab.py --other /tmp/basevenv/bin/python:/tmp --compare collector
"""

from __future__ import annotations

import argparse
import functools
import operator
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from collector_util import ARMS, DIGITS, KINDS, MODELS, SEEDS, load, run_measured

CLI = ["-c", "from evalhouse.cli import main; main()"]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve(python: str, cwd: str, problems: Path, root: Path, name: str) -> tuple[subprocess.Popen, str]:
    port_file = root / f"{name}.port"
    port_file.write_text("")
    proc = subprocess.Popen(
        [python, *CLI, "synthetic", "serve", "--port", "0", "--port-file", str(port_file), "--problems", str(problems)],
        cwd=cwd,
        stderr=subprocess.DEVNULL,
    )
    while not port_file.read_text():
        if proc.poll() is not None:
            raise RuntimeError(f"the {name} endpoint did not start")
        time.sleep(0.05)
    return proc, f"http://127.0.0.1:{port_file.read_text()}/v1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", required=True, metavar="PYTHON:CWD", help="the other checkout's Python and folder")
    parser.add_argument("--compare", choices=["collector", "endpoint"], default="collector")
    parser.add_argument("--n", type=int, default=100, help="instances per kind and digit [100: 36,000 responses]")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    other_python, _, other_cwd = args.other.partition(":")
    checkouts = {"this": (sys.executable, tempfile.gettempdir()), "other": (other_python, other_cwd or "/")}
    root = Path(tempfile.mkdtemp(prefix="evalhouse-bench-ab-"))
    problems = root / "p" / "raw" / "problems"
    generate = [*CLI, "problems", "generate", "--kinds", KINDS, "--digits", DIGITS, "--n", str(args.n)]
    run_measured([sys.executable, *generate], {**os.environ, "EVALHOUSE_DATA": str(root / "p")})
    responses = len(MODELS) * len(KINDS.split(",")) * len(DIGITS.split(",")) * args.n * 2 * 3
    requests = responses * 2 // 3
    print(f"A/B ({args.compare}): {responses} responses per run, {args.rounds} rounds; {load()}")
    endpoints = {"this": serve(sys.executable, tempfile.gettempdir(), problems, root, "this")}
    if args.compare == "endpoint":
        endpoints["other"] = serve(other_python, other_cwd or "/", problems, root, "other")
    figures: dict[str, list[float]] = {"this": [], "other": []}
    try:
        for i in range(args.rounds):
            for name in ("this", "other") if i % 2 == 0 else ("other", "this"):
                python, cwd = checkouts[name if args.compare == "collector" else "this"]
                server, url = endpoints[name if args.compare == "endpoint" else "this"]
                data = root / f"{name}{i}"
                env = {**os.environ, "EVALHOUSE_DATA": str(data)}
                env.pop("EVALHOUSE_API_KEY", None)
                models = functools.reduce(operator.iadd, (["--model", m] for m in MODELS), [])
                run = [python, *CLI, "ingest", "run", "--base-url", url, *models, "--kinds", KINDS]
                run += ["--digits", DIGITS, "--n", str(args.n), "--seeds", SEEDS, "--arms", ARMS]
                run += ["--concurrency", "64", "--no-progress"]
                before = cpu_seconds(server.pid)
                proc = subprocess.Popen(run, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                start = time.perf_counter()
                _, status, usage = os.wait4(proc.pid, 0)
                wall = time.perf_counter() - start
                assert os.waitstatus_to_exitcode(status) == 0, f"the {name} run failed"
                if args.compare == "collector":
                    figure = (usage.ru_utime + usage.ru_stime) / responses * 1000
                    what = "ms collector CPU per response"
                else:
                    figure = (cpu_seconds(server.pid) - before) / requests * 1000
                    what = "ms endpoint CPU per request"
                figures[name].append(figure)
                print(f"  {name}: {figure:.3f} {what}, {wall:.1f}s wall; {load()}", flush=True)
                shutil.rmtree(data)
    finally:
        for server, _ in endpoints.values():
            server.terminate()
            server.wait()
    this, other = (sum(figures[k]) / len(figures[k]) for k in ("this", "other"))
    print(f"  mean: this {this:.3f}, other {other:.3f}; this / other: {this / other:.2f}x")


if __name__ == "__main__":
    main()
