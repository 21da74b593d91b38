"""Shared by the collector benchmarks: their models and plan, a synthetic endpoint in its own process, machine
load, timing."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EVALHOUSE = [sys.executable, "-c", "from evalhouse.cli import main; main()"]
# the simulated models every collector benchmark asks, and the plan of the CPU benchmarks (collector_cpu, _ab)
MODELS = [
    "synthetic/atlas-large",
    "synthetic/atlas-mini",
    "synthetic/boreal-pro",
    "synthetic/boreal-lite",
    "synthetic/cirrus-reasoner",
]
KINDS, DIGITS, SEEDS, ARMS = "add,sub,mul", "2,3,4,5", "0,1", "nl,sim,controlsim"


@contextlib.contextmanager
def endpoint(problems: Path, *args: str):
    """`evalhouse synthetic serve` in a separate process; yields (base_url, process)."""
    port_file = Path(tempfile.mkstemp(prefix="evalhouse-port-")[1])
    port_file.write_text("")
    proc = subprocess.Popen(
        [
            *EVALHOUSE,
            "synthetic",
            "serve",
            "--port",
            "0",
            "--port-file",
            str(port_file),
            "--problems",
            str(problems),
            *args,
        ],
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            if port_file.read_text():
                break
            if proc.poll() is not None:
                raise RuntimeError("the synthetic endpoint did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port_file.read_text()}/v1", proc
    finally:
        proc.terminate()
        proc.wait(10)
        port_file.unlink(missing_ok=True)


def run_measured(
    cmd: list[str], env: dict[str, str] | None = None, stderr=subprocess.DEVNULL
) -> tuple[float, float, float, int]:
    """Run `cmd` to the end; (wall s, user+sys CPU s, peak RSS MB, exit code) of that process alone."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"
