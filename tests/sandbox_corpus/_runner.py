"""Runs the hostile corpus through `run_code`, as whichever user starts it, and checks each program was contained.

    python _runner.py CORPUS_FOLDER --audit on|off [--isolation auto|landlock|...] [--only NAME ...]

Stands in for the collector: the API key (a canary, from EVALHOUSE_API_KEY) is in this process's
environment, and it owns the targets a program would go for: a data folder, a folder outside, a private
key file, a TCP listener, a UDP socket and a Unix socket listener on the host, and a sentinel process of
the same user. After each program it checks that none was reached, that no process of the program is
left, and that the sentinel lives; then it prints one JSON line and goes on to the next.

Standard library and `evalhouse.ingest.sandbox` only: the unprivileged pass runs it with a copy of the
sandbox's three modules on PYTHONPATH, under an interpreter that user can read.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evalhouse.ingest.sandbox import Limits, run_code

LIMITS = dict(wall_s=4.0, cpu_s=1, memory_mb=256, processes=8, file_mb=8, folder_mb=16, output_bytes=64 << 10)
MARKER_LINE = "T = {}  # the corpus runner puts the targets here"


class Targets:
    """What a hostile program goes for, owned by this process."""

    def __init__(self, base: Path):
        self.base = base
        self.outside = base / "outside"
        self.data = base / "data"
        self.ssh = base / "ssh"
        for folder in (self.outside, self.data / "raw", self.ssh):
            folder.mkdir(parents=True)
        self.ssh.chmod(0o700)
        self.secret = "PRIVATE-KEY-" + secrets.token_hex(8)
        self.key = self.ssh / "id_ed25519"
        self.key.write_text(self.secret)
        self.key.chmod(0o600)
        self.tcp = socket.socket()
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen()
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.unix_path = str(base / "listen.sock")
        self.unix = socket.socket(socket.AF_UNIX)
        self.unix.bind(self.unix_path)
        self.unix.listen()
        os.chmod(self.unix_path, 0o777)
        for s in (self.tcp, self.udp, self.unix):
            s.setblocking(False)
        self.sentinel = subprocess.Popen(["sleep", "3600"])

    def for_program(self) -> dict:
        return {
            "outside": str(self.outside),
            "data": str(self.data),
            "ssh_dir": str(self.ssh),
            "ssh_key": str(self.key),
            "home": os.path.expanduser("~"),
            "port": self.tcp.getsockname()[1],
            "udp_port": self.udp.getsockname()[1],
            "unix": self.unix_path,
            "runner_pid": os.getpid(),
        }

    def reached(self) -> list[str]:
        """Every way the last program got through; empty when it was contained."""
        found = []
        for name, listener in (("tcp", self.tcp), ("unix", self.unix)):
            try:
                conn, _ = listener.accept()
                conn.close()
                found.append(f"{name} listener got a connection")
            except BlockingIOError:
                pass
        try:
            self.udp.recv(64)
            found.append("udp socket got a datagram")
        except BlockingIOError:
            pass
        for folder in (self.outside, self.data / "raw", self.data, self.ssh):
            extra = sorted(p.name for p in folder.iterdir() if p.name not in ("raw", "id_ed25519"))
            if extra:
                found.append(f"{folder} holds {extra}")
        if self.sentinel.poll() is not None:
            found.append(f"sentinel process killed ({self.sentinel.returncode})")
        return found

    def close(self) -> None:
        self.sentinel.kill()
        self.sentinel.wait()
        for s in (self.tcp, self.udp, self.unix):
            s.close()


def leftovers(mark: str) -> list[int]:
    """Processes whose command line still names this run's sandbox folders."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as fh:
                    if mark.encode() in fh.read():
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


def run_one(path: Path, targets: Targets, limits: Limits, canary: str, mark: str) -> dict:
    source = path.read_text()
    assert MARKER_LINE in source, f"{path.name}: no targets line"
    code = source.replace(MARKER_LINE, f"T = {targets.for_program()!r}")
    expect = next((line.split(":", 1)[1].strip() for line in source.splitlines() if line.startswith("# expect:")), "")
    result = run_code(code, limits)
    left = leftovers(mark)
    deadline = time.monotonic() + 2
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = leftovers(mark)
    text = "\n".join((result.stdout, result.stderr, result.reason or ""))
    breaches = targets.reached()
    if canary in text:
        breaches.append("the API key was printed")
    if targets.secret in text:
        breaches.append("the private key was printed")
    if left:
        breaches.append(f"processes left behind: {left}")
    return {
        "program": path.stem,
        "user": os.geteuid(),
        "audit": limits.audit,
        "isolation": result.isolation,
        "status": result.status,
        "limit": result.limit,
        "reason": result.reason,
        "expect": expect,
        "seconds": round(result.duration_ms / 1000, 2),
        "breaches": breaches,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--audit", choices=("on", "off"), default="on")
    parser.add_argument("--isolation", default="auto")
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    canary = os.environ["EVALHOUSE_API_KEY"]
    limits = Limits(**LIMITS, audit=args.audit == "on", isolation=args.isolation)
    programs = sorted(p for p in args.corpus.glob("*.py") if not p.name.startswith("_"))
    if args.only:
        programs = [p for p in programs if p.stem in args.only]
    with tempfile.TemporaryDirectory(prefix="evalhouse-corpus-") as base:
        tempfile.tempdir = str(Path(base) / "sandboxes")  # run_code's folders, so leftovers can be found
        os.mkdir(tempfile.tempdir)
        targets = Targets(Path(base) / "targets")
        try:
            for path in programs:
                print(json.dumps(run_one(path, targets, limits, canary, tempfile.tempdir)), flush=True)
        finally:
            targets.close()
            tempfile.tempdir = None


if __name__ == "__main__":
    sys.exit(main())
