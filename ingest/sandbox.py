"""Running model-written code, which is hostile until proven otherwise.

Each program runs in its own process group, in a fresh temporary folder, with CPU, memory, process,
file-size and open-file limits set by `setrlimit`, a wall-clock timeout, a cap on captured output and,
where the kernel allows it, no network (a new network namespace).
"""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    wall_s: float = 5.0
    cpu_s: int = 5
    memory_mb: int = 512
    processes: int = 64
    file_mb: int = 16
    output_bytes: int = 1 << 20


@dataclass(frozen=True)
class Execution:
    """What happened to one program: its output and, if it was stopped, the limit that stopped it."""

    stdout: str
    stderr: str
    exit_code: int | None
    duration_ms: float
    status: str  # ok | error | timeout | killed
    limit: str | None = None  # wall | cpu | memory | output | processes | file | None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _limit_child(limits: Limits) -> None:  # runs in the child between fork and exec
    os.setsid()
    mb = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_s, limits.cpu_s + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_mb * mb, limits.memory_mb * mb))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_mb * mb, limits.file_mb * mb))
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_code(code: str, limits: Limits = Limits()) -> Execution:
    with tempfile.TemporaryDirectory(prefix="evalhouse-sbx-") as folder:
        path = os.path.join(folder, "main.py")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(code)
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", path],
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={"PATH": "/usr/bin:/bin", "HOME": folder, "TMPDIR": folder, "PYTHONHASHSEED": "0"},
            preexec_fn=lambda: _limit_child(limits),
        )
        try:
            out, err = proc.communicate(timeout=limits.wall_s)
            timed_out = False
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            timed_out = True
        duration = (time.perf_counter() - start) * 1000
    stdout = out[: limits.output_bytes].decode("utf-8", "replace")
    stderr = err[: limits.output_bytes].decode("utf-8", "replace")
    if timed_out:
        return Execution(stdout, stderr, None, duration, "timeout", "wall")
    code_ = proc.returncode
    if code_ == 0:
        return Execution(stdout, stderr, 0, duration, "ok")
    limit = None
    if code_ in (-signal.SIGXCPU, -signal.SIGKILL) and "MemoryError" not in stderr:
        limit = "cpu"
    elif "MemoryError" in stderr:
        limit = "memory"
    elif code_ == -signal.SIGXFSZ:
        limit = "file"
    return Execution(stdout, stderr, code_, duration, "killed" if limit else "error", limit)
