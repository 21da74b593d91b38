"""Crash safety: the write-ahead journal, its recovery, and runs killed with SIGKILL at random moments."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import duckdb
import pyarrow.parquet as pq
import pytest

from evalhouse.ingest.collector import response_id
from evalhouse.ingest.journal import Segment, recover
from evalhouse.ingest.shards import RESPONSE_SCHEMA, ShardWriter, clean_leftovers, table_from_rows, write_shard

from .collector_kit import MODELS, endpoint, ingest_run, stored


def _row(i: int) -> dict:
    return {
        "response_id": f"r{i}",
        "run_id": "run_x",
        "source": "collector",
        "model": "m",
        "problem_id": f"p{i}",
        "kind": "add",
        "digit": 2,
        "arm": "nl",
        "seed": 0,
        "created_at": 1_700_000_000_000_000 + i,
    }


def _write(rows, folder, stem):
    write_shard(table_from_rows(rows, RESPONSE_SCHEMA), folder, stem)


def _ids(folder) -> list[str]:
    return sorted(r for p in folder.glob("*.parquet") for r in pq.read_table(p).column("response_id").to_pylist())


def test_dead_segment_becomes_its_shard_once_and_a_torn_line_is_dropped(tmp_path):
    """A killed run's journal segment turns into part-<seq>.parquet; the half-written last line is dropped."""
    run = tmp_path / "run_id=run_x"
    run.mkdir()
    lines = [json.dumps(_row(i)) + "\n" for i in range(3)] + ['{"response_id": "r3", "run_']
    (run / ".journal-000004.jsonl").write_text("".join(lines))
    assert recover(tmp_path, _write) == 3
    assert [p.name for p in run.iterdir()] == ["part-000004.parquet"]
    assert _ids(run) == ["r0", "r1", "r2"]
    assert pq.read_table(run / "part-000004.parquet").column("created_at").to_pylist()[0].year == 2023
    assert recover(tmp_path, _write) == 0


def test_segment_whose_shard_was_written_is_only_removed(tmp_path):
    """Killed between writing the shard and deleting the segment: recovery adds no duplicate rows."""
    run = tmp_path / "run_id=run_x"
    rows = [_row(i) for i in range(5)]
    _write(rows, run, "part-000000")
    (run / ".journal-000000.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert recover(tmp_path, _write) == 0
    assert _ids(run) == [f"r{i}" for i in range(5)]
    assert not list(run.glob(".journal-*"))


def test_a_live_runs_segment_is_left_alone(tmp_path):
    """A segment still locked by a running writer is not recovered under it."""
    segment = Segment(tmp_path / "run_id=live", 0)
    segment.append(_row(0))
    assert recover(tmp_path, _write) == 0
    assert segment.path.exists() and not list(segment.path.parent.glob("*.parquet"))
    segment.remove()


def test_leftover_temporary_files_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    """A half-written shard of a dead process is removed; one of a live process (a concurrent run) is kept."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run = tmp_path / "run_id=x"
    run.mkdir()
    (run / f".part-000001.parquet.tmp-{dead.pid}").write_bytes(b"PAR1 torn")
    (run / f".part-000002.parquet.tmp-{os.getpid()}").write_bytes(b"PAR1 being written")
    assert clean_leftovers(tmp_path) == 1
    assert [p.name for p in run.iterdir()] == [f".part-000002.parquet.tmp-{os.getpid()}"]


def test_journaled_writer_names_shards_after_segments_and_leaves_no_journal(tmp_path):
    """Every row lands in exactly one shard named part-<seq>; a reused folder continues the sequence."""
    folder = tmp_path / "run_id=run_x"
    with ShardWriter(folder, every=4, journal=True) as writer:
        for i in range(10):
            writer.add(_row(i))
    with ShardWriter(folder, every=4, journal=True) as writer:
        writer.add(_row(10))
    shards = sorted(folder.iterdir())
    assert all(p.name.startswith("part-") and p.suffix == ".parquet" for p in shards) and len(shards) >= 3
    assert pq.read_table(shards[-1]).column("response_id").to_pylist() == ["r10"]
    assert _ids(folder) == sorted(f"r{i}" for i in range(11))


def _run(url: str, arms: str = "nl,sim,controlsim,code", checkpoint: int = 5) -> list[str]:
    return ingest_run(url, "--arms", arms, "--concurrency", "8", "--checkpoint-every", str(checkpoint))


def _wait_for_answers(server, proc, timeout=60.0) -> None:
    """Until the endpoint has answered this run's first request (or the run ended)."""
    start = server.stats["answered"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None and server.stats["answered"] == start:
        time.sleep(0.02)


@pytest.mark.slow
def test_killed_at_random_moments_then_resumed_nothing_lost_nothing_twice(workdir):
    """SIGKILL three times at random moments, then run to the end: every response is stored exactly once
    and at most the requests in flight at each kill were asked twice. Some runs checkpoint every 3
    answers (kills land mid-shard), others only at exit (everything before the kill is in the journal)."""
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    env = {**os.environ, "EVALHOUSE_DATA": str(workdir.data)}
    with endpoint(workdir, latency_ms=15, latency_sigma=0.8) as server:
        kills = 0
        for _ in range(3):
            checkpoint = rng.choice([3, 1000])
            proc = subprocess.Popen(
                _run(server.url, checkpoint=checkpoint), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            _wait_for_answers(server, proc)
            time.sleep(rng.uniform(0.0, 0.8))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait()
        final = subprocess.run(_run(server.url), env=env, capture_output=True, text=True)
        answered = server.stats["answered"]
    assert final.returncode == 0, final.stderr
    assert kills >= 1, "every run ended before its kill: the plan is too small to test anything"
    problems = duckdb.sql(f"select problem_id from read_parquet('{workdir.problems}/*.parquet')").fetchall()
    expected = {
        response_id(m, p, a, s, 0)
        for m in MODELS
        for (p,) in problems
        for a in ("nl", "sim", "controlsim", "code")
        for s in (0, 1)
    }
    ids = [r[0] for r in stored(workdir, "response_id")]
    assert len(ids) == len(set(ids)), f"duplicates (seed {seed})"
    assert set(ids) == expected, f"missing {len(expected - set(ids))} (seed {seed})"
    requests_needed = len(expected) // 4 * 3
    assert answered <= requests_needed + kills * 8, f"paid twice for more than in flight (seed {seed})"
    assert not list(workdir.responses.rglob(".journal-*")) and not list(workdir.responses.rglob("*.tmp-*"))


@pytest.mark.slow
def test_sigterm_stores_what_landed_and_says_how_to_resume(workdir):
    """SIGTERM ends the run cleanly: exit 130, the journal flushed into shards, a resume finishes it."""
    env = {**os.environ, "EVALHOUSE_DATA": str(workdir.data)}
    with endpoint(workdir, latency_ms=100, latency_sigma=0.5) as server:
        proc = subprocess.Popen(
            _run(server.url, "nl,sim"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        _wait_for_answers(server, proc)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130 and "run again to resume" in err
        assert not list(workdir.responses.rglob(".journal-*"))
        partial = len(stored(workdir, "response_id"))
        assert 0 < partial < 192
        assert subprocess.run(_run(server.url, "nl,sim"), env=env, capture_output=True).returncode == 0
    assert len(stored(workdir, "distinct response_id")) == len(stored(workdir, "response_id")) == 192
