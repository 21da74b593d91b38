"""A 100,000-sample inspect log, written by inspect's own recorder, imported whole with bounded memory."""

from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

from .harness_logs import big_log

pytestmark = pytest.mark.slow

N = 100_000


def test_a_100k_sample_log_imports_whole_in_bounded_memory(tmp_path):
    """Every one of 100,000 samples lands (in 50,000-row shards), and the import's peak memory stays well under
    the size of the samples it read: the log is streamed member by member, never held whole."""
    log = big_log(tmp_path / "big.eval", N, flush_every=25_000)
    with zipfile.ZipFile(log) as archive:
        members = [i for i in archive.infolist() if i.filename.startswith("samples/")]
    assert len(members) == N
    unpacked = sum(i.file_size for i in members)
    data = tmp_path / "data"
    env = {**os.environ, "EVALHOUSE_DATA": str(data)}
    evalhouse = str(Path(sys.executable).with_name("evalhouse"))
    pid = os.posix_spawn(evalhouse, [evalhouse, "ingest", "import", str(log), "--no-progress"], env)
    _, status, usage = os.wait4(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    peak = usage.ru_maxrss * 1024
    assert peak < unpacked / 2, f"peak RSS {peak / 2**20:.0f} MiB for {unpacked / 2**20:.0f} MiB of samples"
    shards = sorted((data / "raw" / "benchmark_samples").rglob("*.parquet"))
    assert len(shards) == 2
    [(rows, ids, c)] = duckdb.sql(
        f"select count(*), count(distinct sample_id), count(*) filter (where value_text = 'C') "
        f"from read_parquet({[str(s) for s in shards]})"
    ).fetchall()
    assert rows == ids == N and 0 < c < N
