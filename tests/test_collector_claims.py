"""Never pay twice: claims that die with their holder, and two `ingest run`s sharing one plan."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evalhouse.ingest.claims import BUCKETS, Claims, bucket_of
from evalhouse.ingest.collector import collect, response_id
from evalhouse.ingest.shards import write_shard

from .collector_kit import MODELS, endpoint, fast_config, ingest_run, stored
from .project import paths_in

UNIT = ("model", "problem_id", "seed", "sample")


def test_a_claimed_bucket_is_refused_to_another_holder_until_it_lets_go(tmp_path):
    """Two holders (two open claims files, even in one process) never hold one bucket; closing frees it,
    and the next holder learns that the bucket was worked on since it read the stored state."""
    first, second = Claims(tmp_path / ".claims"), Claims(tmp_path / ".claims")
    seen = second.snapshot()
    assert first.claim(5, first.snapshot()) is False  # claimed; nobody had worked on it
    assert second.claim(5, seen) is None  # held by the first
    assert second.claim(6, seen) is False
    first.close()
    assert second.claim(5, seen) is True  # free now, and claimed once since `seen`
    assert second.claim(5, seen) is False  # already this holder's
    second.close()


def test_a_bucket_held_when_the_state_was_read_counts_as_worked_on(tmp_path):
    """A bucket another run held at the snapshot may be worked on after it, so claiming it later means
    reading the state again even though its count has not moved; the snapshot finds every held bucket."""
    other, mine = Claims(tmp_path / ".claims"), Claims(tmp_path / ".claims")
    held = {0, 1, 2, 9, 700, BUCKETS - 1}
    for bucket in held:
        other.claim(bucket, other.snapshot())
    seen = mine.snapshot()
    assert seen.held == held
    other.close()
    assert mine.claim(700, seen) is True and mine.claim(701, seen) is False
    assert mine.snapshot().held == set()  # its own claims are not another's
    mine.close()


def test_a_killed_holders_claims_are_free_at_once(tmp_path):
    """SIGKILL of the holding process frees its claims: the kernel drops the locks with it."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from evalhouse.ingest.claims import Claims;"
            f"c = Claims(Path({str(tmp_path / '.claims')!r})); c.claim(7, c.snapshot()); print('held', flush=True);"
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        mine = Claims(tmp_path / ".claims")
        assert mine.claim(7, mine.snapshot()) is None
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate()  # waits, and closes the pipe
    assert mine.claim(7, mine.snapshot()) is False
    mine.close()


def test_units_spread_over_the_buckets():
    """Units of one plan land in many buckets (so two runs can share it), each unit always in the same one."""
    keys = [f"m|p{i}|0|0" for i in range(2000)]
    buckets = [bucket_of(k) for k in keys]
    assert buckets == [bucket_of(k) for k in keys]
    assert len(set(buckets)) > 1000 and all(0 <= b < BUCKETS for b in buckets)


def _run(url: str, run_id: str) -> list[str]:
    return ingest_run(url, "--concurrency", "4", "--checkpoint-every", "20", "--run-id", run_id)


def _expected(workdir) -> set[str]:
    problems = duckdb.sql(f"select problem_id from read_parquet('{workdir.problems}/*.parquet')").fetchall()
    return {
        response_id(m, p, a, s, 0)
        for m in MODELS
        for (p,) in problems
        for a in ("nl", "sim", "controlsim", "code")
        for s in (0, 1)
    }


def _asked(workdir) -> int:
    """Requests the stored rows needed: nl, sim, and controlsim where the sim answer held a program."""
    return stored(workdir, "count(*)", "arm <> 'code' and prompt <> ''")[0][0]


def _stored_by(output: str) -> int:
    return int(re.search(r"stored (\d+) of", output).group(1))


@pytest.mark.slow
def test_two_runs_of_one_plan_at_once_share_it_and_pay_once(workdir):
    """Two `evalhouse ingest run` processes started together over one data folder split the plan: every
    response is stored once, every request reaches the endpoint once, and each run stored a part."""
    env = {**os.environ, "EVALHOUSE_DATA": str(workdir.data)}
    with endpoint(workdir, latency_ms=60, latency_sigma=0.3) as server:
        runs = [
            subprocess.Popen(_run(server.url, f"run_{name}"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for name in ("a", "b")
        ]
        outputs = [proc.communicate(timeout=300) for proc in runs]
        requests, answered = server.stats["requests"], server.stats["answered"]
    for proc, (_, err) in zip(runs, outputs):
        assert proc.returncode == 0, err.decode()
    expected = _expected(workdir)
    ids = [r[0] for r in stored(workdir, "response_id")]
    by_run = dict(stored(workdir, "run_id, count(*)", "true group by run_id"))
    stored_a, stored_b = (_stored_by(out.decode()) for out, _ in outputs)
    print(
        f"two runs: {len(ids)} rows, {len(set(ids))} distinct of {len(expected)} planned; "
        f"{requests} requests received for {_asked(workdir)} responses that needed one; stored a {stored_a}, b {stored_b}"
    )
    assert len(ids) == len(set(ids)) == len(expected) and set(ids) == expected
    assert requests == answered == _asked(workdir)  # one request each, none twice
    assert stored_a + stored_b == len(expected) and by_run == {"run_a": stored_a, "run_b": stored_b}
    assert stored_a > 0 and stored_b > 0, "one run did everything: nothing was shared"


@pytest.mark.slow
def test_a_run_beside_a_killed_one_takes_over_its_claims(workdir):
    """Two runs start together and one is SIGKILLed midway: the survivor takes the dead run's buckets when its
    own work is done (recovering the dead run's journal), so the plan completes with every response once and
    no more requests than the dead run had in flight."""
    env = {**os.environ, "EVALHOUSE_DATA": str(workdir.data)}
    with endpoint(workdir, latency_ms=80, latency_sigma=0.3) as server:
        victim = subprocess.Popen(
            _run(server.url, "run_victim"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        survivor = subprocess.Popen(
            _run(server.url, "run_survivor"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 120
        while server.stats["answered"] < 40 and time.monotonic() < deadline and victim.poll() is None:
            time.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        out, err = survivor.communicate(timeout=300)
        requests = server.stats["requests"]
    assert survivor.returncode == 0, err.decode()
    expected = _expected(workdir)
    ids = [r[0] for r in stored(workdir, "response_id")]
    assert len(ids) == len(set(ids)) == len(expected) and set(ids) == expected
    assert _asked(workdir) <= requests <= _asked(workdir) + 4  # at most the victim's window (4) asked twice
    assert b"claimed by another live run" not in out


def test_work_another_live_run_holds_is_left_to_it_and_the_run_is_named(workdir):
    """While another live run holds every bucket, a run asks nothing and says which run has the work (run id,
    pid, host, start); once that run lets go, the same plan is collected in full."""
    root = workdir.responses / "source=collector"
    other = Claims(root / ".claims")
    for bucket in range(BUCKETS):
        other.claim(bucket, other.snapshot())
    manifest = {"run_id": "run_other", "status": "running", "pid": os.getpid(), "host": socket.gethostname()}
    (root / "run_id=run_other").mkdir()
    (root / "run_id=run_other" / "run.json").write_text(json.dumps(manifest | {"started_at": "2026-12-07T10:00:00"}))
    with endpoint(workdir) as server:
        _, summary = collect(fast_config(server.url), workdir, None)
        assert server.stats["requests"] == 0 and summary.done == 0 and summary.left_to_others == 4
        assert summary.others == [
            f"run run_other: pid {os.getpid()} on {socket.gethostname()}, started 2026-12-07T10:00:00"
        ]
        assert any("claimed by another live run (run run_other: pid" in line for line in summary.lines())
        other.close()
        _, summary = collect(fast_config(server.url), workdir, None)
        assert server.stats["requests"] == 4 and summary.done == 4 and summary.left_to_others == 0


def test_work_left_to_a_run_that_ends_meanwhile_is_not_asked_again(workdir, tmp_path):
    """A run passes bucket A, which another run holds; that run stores A's and B's work and exits while this
    one is busy. Claiming B makes this run read the stored state again, and its second look at A starts from
    that reading too: A's work, stored by the other run, is not asked again."""
    scratch = paths_in(tmp_path / "scratch")
    plan = dict(n=16, concurrency=1)
    with endpoint(scratch) as server:  # the other run's answers, collected beforehand elsewhere
        collect(fast_config(server.url, **plan), scratch, None)
    rows = pa.concat_tables(pq.read_table(f) for f in scratch.responses.rglob("*.parquet"))
    units = [bucket_of(f"{m}|{p}|{s}|{n}") for m, p, s, n in zip(*(rows[c].to_pylist() for c in UNIT))]
    first, last = min(units), max(units)
    theirs = rows.filter(pa.array([b in (first, last) for b in units]))

    root = workdir.responses / "source=collector"
    other = Claims(root / ".claims")
    assert other.claim(first, other.snapshot()) is False and other.claim(last, other.snapshot()) is False

    def other_run_stores_and_exits(server) -> None:
        while server.stats["answered"] < 1:  # this run has passed A by now, and is far from B
            time.sleep(0.005)
        write_shard(theirs, root / "run_id=run_other", "part-000000")
        other.close()

    with endpoint(workdir, latency_ms=100) as server:
        watcher = threading.Thread(target=other_run_stores_and_exits, args=(server,))
        watcher.start()
        _, summary = collect(fast_config(server.url, **plan), workdir, None)
        watcher.join()
        requests = server.stats["requests"]
    ids = [r[0] for r in stored(workdir, "response_id")]
    assert len(ids) == len(set(ids)) == len(rows)
    assert requests == summary.done == len(rows) - len(theirs) and summary.skipped == len(theirs)
