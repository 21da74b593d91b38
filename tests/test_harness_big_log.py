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
SMALL = 2_000


def _import(log: Path, data: Path) -> int:
    """Peak RSS (bytes) of `evalhouse ingest import log` in its own process."""
    env = {**os.environ, "EVALHOUSE_DATA": str(data)}
    evalhouse = str(Path(sys.executable).with_name("evalhouse"))
    pid = os.posix_spawn(evalhouse, [evalhouse, "ingest", "import", str(log), "--no-progress"], env)
    _, status, usage = os.wait4(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return usage.ru_maxrss * 1024


def _unpacked(log: Path) -> tuple[int, int]:
    with zipfile.ZipFile(log) as archive:
        members = [i for i in archive.infolist() if i.filename.startswith("samples/")]
    return len(members), sum(i.file_size for i in members)


@pytest.mark.timeout(1800)  # writing the log through inspect's pydantic models is most of it
def test_a_100k_sample_log_imports_whole_in_bounded_memory(tmp_path):
    """Every one of 100,000 samples lands (in 20,000-row shards), and memory does not grow with the samples'
    text: from a 2,000-sample log to a 100,000-sample one the import's peak grows by less than a quarter of
    the JSON it read (the zip's directory and one chunk of columns; the log is never held whole)."""
    big, small = big_log(tmp_path / "big.eval", N), big_log(tmp_path / "small.eval", SMALL)
    (n_big, bytes_big), (n_small, bytes_small) = _unpacked(big), _unpacked(small)
    assert (n_big, n_small) == (N, SMALL)
    peak_big, peak_small = _import(big, tmp_path / "data"), _import(small, tmp_path / "small-data")
    growth = peak_big - peak_small
    assert growth < (bytes_big - bytes_small) / 4, (
        f"peak grew {growth / 2**20:.0f} MiB for {bytes_big / 2**20:.0f} MiB of samples"
    )
    shards = sorted((tmp_path / "data" / "raw" / "benchmark_samples").rglob("*.parquet"))
    assert len(shards) == N // 20_000
    [(rows, ids, correct)] = duckdb.sql(
        "select count(*), count(distinct sample_id), count(*) filter (where value_text = 'C') "
        f"from read_parquet({[str(s) for s in shards]})"
    ).fetchall()
    assert rows == ids == N and 0 < correct < N
