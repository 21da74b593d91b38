"""The rerun lock with real processes: a second rerun exits at once; a SIGKILLed holder's lock is recovered."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from evalhouse.synthetic import ServerConfig, SyntheticServer

pytestmark = pytest.mark.slow

EVALHOUSE = str(Path(sys.executable).parent / "evalhouse")
SLOW_SPEC = """\
base_url = "{url}"
model = ["synthetic/atlas-large"]
kinds = ["add"]
digits = [2]
n = 12
seeds = [0]
concurrency = 1
checkpoint_every = 4
"""
CELLS = 12 * 4


def _env() -> dict[str, str]:
    """The user's environment without evalhouse's overrides: paths resolve from the working folder."""
    return {k: v for k, v in os.environ.items() if not k.startswith("EVALHOUSE_")}


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def test_second_rerun_exits_75_and_a_killed_holder_is_recovered(tmp_path):
    """While a rerun holds the lock another exits 75 at once; after SIGKILL the next one recovers it and finishes."""
    project = tmp_path / "project"
    (project / "experiments").mkdir(parents=True)
    data = project / "data"
    with SyntheticServer(ServerConfig(problems=data / "raw" / "problems", latency_ms=300)) as server:
        (project / "experiments" / "slow.toml").write_text(SLOW_SPEC.format(url=server.url))
        first = subprocess.Popen(
            [EVALHOUSE, "rerun"],
            cwd=project,
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _wait_for(lambda: any((data / "raw" / "responses").rglob("*.parquet")), 60, "the first rerun's first shard")
            holder = (data / "rerun.lock.json").read_text()
            assert f'"pid": {first.pid}' in holder

            second = subprocess.run(
                [EVALHOUSE, "rerun"], cwd=project, env=_env(), capture_output=True, text=True, timeout=60
            )
            assert second.returncode == 75
            assert "Error: another `evalhouse rerun` holds" in second.stderr and f"pid {first.pid}" in second.stderr
            assert first.poll() is None, "the second rerun waited for the first instead of exiting at once"
            running = subprocess.run(
                [EVALHOUSE, "status"], cwd=project, env=_env(), capture_output=True, text=True, timeout=60
            )
            assert f"Lock       a rerun is running: pid {first.pid}" in running.stdout
        finally:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
        stale = subprocess.run(
            [EVALHOUSE, "status"], cwd=project, env=_env(), capture_output=True, text=True, timeout=60
        )
        assert f"Lock       stale: pid {first.pid}" in stale.stdout  # the holder file a killed rerun leaves behind

        server.config.latency_ms = 0
        third = subprocess.run(
            [EVALHOUSE, "rerun"], cwd=project, env=_env(), capture_output=True, text=True, timeout=300
        )
    assert third.returncode == 0, third.stderr
    assert f"recovered a stale lock left by pid {first.pid}" in third.stderr
    assert not (data / "rerun.lock.json").exists()
    glob = str(data / "raw" / "responses" / "**" / "*.parquet")
    rows, ids = duckdb.sql(f"select count(*), count(distinct response_id) from read_parquet('{glob}')").fetchone()
    assert rows == ids == CELLS  # nothing lost, nothing asked twice
    log = (data / "logs" / "rerun.log").read_text()
    assert "another `evalhouse rerun` holds" in log and "recovered a stale lock" in log
    assert (project / "warehouse" / "evalhouse.duckdb").exists()
