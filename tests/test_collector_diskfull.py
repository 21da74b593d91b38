"""A full disk: the run stops with one `Error:` line, what was journaled is kept, the next run resumes."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import sys

import duckdb
import pytest
from click.testing import CliRunner

from evalhouse.cli import main
from evalhouse.files import DiskFull
from evalhouse.ingest import journal, shards
from evalhouse.ingest.journal import Segment, read_segment, recover
from evalhouse.ingest.shards import RESPONSE_SCHEMA, table_from_rows, write_shard

from .collector_kit import MODELS, endpoint, stored

ARGS = ["--model", MODELS[0], "--kinds", "add,lcs", "--digits", "2,3", "--n", "5", "--seeds", "0,1"]
ARGS += ["--arms", "nl,sim,controlsim,code", "--concurrency", "4", "--no-progress"]
PLANNED = 2 * 2 * 5 * 2 * 4


class FullDiskOS:
    """`os` as one module sees it, on a disk with `room` bytes left: a short write, then ENOSPC."""

    def __init__(self, room: int):
        self.room = room

    def __getattr__(self, name: str):
        return getattr(os, name)

    def write(self, fd: int, data: bytes) -> int:
        if self.room <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        n = min(len(data), self.room)
        self.room -= n
        return os.write(fd, data[:n])


class FullDiskParquet:
    """`pyarrow.parquet` as the shard writer sees it, failing as pyarrow does on a full disk for run shards."""

    def __getattr__(self, name: str):
        import pyarrow.parquet

        return getattr(pyarrow.parquet, name)

    def write_table(self, table, where, **options) -> None:
        if "run_id=" in str(where):
            with open(where, "wb") as fh:  # a torn temporary file, as a real failure leaves
                fh.write(b"PAR1 half")
            raise OSError(errno.ENOSPC, "Error writing bytes to file. Detail: [errno 28] No space left on device")
        import pyarrow.parquet

        pyarrow.parquet.write_table(table, where, **options)


def _row(i: int) -> dict:
    return {"response_id": f"r{i}", "run_id": "run_x", "source": "collector", "prompt": "p" * 100, "seed": 0}


def _journal_rows(workdir) -> dict[str, str]:
    """response_id -> run_id of every row in a journal segment left on disk."""
    found = {}
    for path in workdir.responses.rglob(".journal-*.jsonl"):
        with open(path, encoding="utf-8") as fh:
            found.update({r["response_id"]: r["run_id"] for r in read_segment(fh)})
    return found


def _error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("Error:")]


def test_a_full_disk_cuts_the_journal_back_to_whole_rows(tmp_path):
    """The row that does not fit is cut off again: the segment keeps exactly the rows before it."""
    with pytest.MonkeyPatch.context() as fault:
        fault.setattr(journal, "os", FullDiskOS(room=10_000))
        segment = Segment(tmp_path / "run_id=run_x", 0)
        appended = 0
        with pytest.raises(DiskFull, match=r"disk full while writing .*\.journal-000000\.jsonl"):
            for i in range(1000):
                segment.append(_row(i))
                appended += 1
        segment.close()
    assert 0 < appended < 1000
    text = segment.path.read_text(encoding="utf-8")
    assert text.endswith("\n") and len(text.splitlines()) == appended

    def write(rows, folder, stem):
        write_shard(table_from_rows(rows, RESPONSE_SCHEMA), folder, stem)

    assert recover(tmp_path, write) == appended


@pytest.mark.parametrize("where", ["journal", "shard"])
def test_disk_full_stops_the_run_with_one_error_line_and_the_next_run_resumes(workdir, where):
    """ENOSPC in the journal or in a shard: `ingest run` exits 1 with one Error line and no traceback; every
    row journaled before stays on disk; the next run recovers them and asks only for the rest, so each
    response is stored once and only answers lost in flight were asked twice."""
    runner = CliRunner()
    with endpoint(workdir, latency_ms=5) as server:
        with pytest.MonkeyPatch.context() as fault:
            if where == "journal":
                fault.setattr(journal, "os", FullDiskOS(room=60_000))
                checkpoint = ["--checkpoint-every", "1000"]
            else:
                fault.setattr(shards, "pq", FullDiskParquet())
                checkpoint = ["--checkpoint-every", "12"]
            full = runner.invoke(
                main, ["ingest", "run", "--base-url", server.url, *ARGS, *checkpoint, "--run-id", "run_1"]
            )
        assert full.exit_code == 1 and isinstance(full.exception, SystemExit), full.output
        errors = _error_lines(full.output)
        assert len(errors) == 1 and errors[0].startswith("Error: disk full while writing "), full.output
        assert errors[0].endswith("Free some space and run the same command again to resume.")
        assert "Traceback" not in full.output
        journaled = _journal_rows(workdir)
        kept = journaled | {rid: "run_1" for (rid,) in stored(workdir, "response_id")}
        assert len(kept) > 10 and set(kept.values()) == {"run_1"}
        # the journal's failure leaves room for the shard at close; a shard's failure leaves the journal
        assert bool(journaled) == (where == "shard")
        assert not list(workdir.responses.rglob("*.tmp-*"))  # no half-written shard left behind

        again = runner.invoke(main, ["ingest", "run", "--base-url", server.url, *ARGS, "--run-id", "run_2"])
        asked = server.stats["requests"]
    assert again.exit_code == 0, again.output
    if journaled:
        assert f"recovered {len(journaled)} responses from the journal" in again.output
    rows = dict(stored(workdir, "response_id, run_id"))
    assert len(stored(workdir, "response_id")) == len(rows) == PLANNED
    assert all(rows[rid] == "run_1" for rid in kept)  # what was journaled was kept, not asked again
    needed = stored(workdir, "count(*)", "arm <> 'code' and prompt <> ''")[0][0]
    assert needed <= asked <= needed + 4 + 1  # the window's answers in flight, and the one that did not fit


def _namespace_prefix() -> list[str] | None:
    """A private mount namespace (root: `unshare -m`; others: with a user namespace), or None."""
    if shutil.which("unshare") is None:
        return None
    prefix = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
    probe = subprocess.run([*prefix, "mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", "/mnt"], capture_output=True)
    return prefix if probe.returncode == 0 else None


@pytest.mark.slow
def test_a_real_full_tmpfs(workdir, tmp_path):
    """On a real 2 MB tmpfs filled up to ~150 kB, `ingest run` stops with one Error line; with space freed
    the same command completes, each response stored once."""
    prefix = _namespace_prefix()
    if prefix is None:
        pytest.skip("this machine allows no private mount namespace with a tmpfs (CI runs as root, where it does)")
    data, out = tmp_path / "tmpfs", tmp_path / "out"
    data.mkdir()
    out.mkdir()
    generate = ["problems", "generate", "--kinds", "add,lcs", "--digits", "2,3", "--n", "5"]
    assert CliRunner().invoke(main, generate).exit_code == 0  # the same instances, for the endpoint to recognise
    with endpoint(workdir, latency_ms=5) as server:
        evalhouse = f"{sys.executable} -c 'from evalhouse.cli import main; main()'"
        run = f"{evalhouse} ingest run --base-url {server.url} {' '.join(ARGS)}"
        script = f"""
            set -u
            mount -t tmpfs -o size=2m tmpfs {data}
            head -c $(( $(df --output=avail -B1 {data} | tail -1) - 150000 )) /dev/zero > {data}/filler
            EVALHOUSE_DATA={data} {run} > {out}/first.out 2> {out}/first.err; echo $? > {out}/first.rc
            rm {data}/filler
            EVALHOUSE_DATA={data} {run} > {out}/second.out 2> {out}/second.err; echo $? > {out}/second.rc
            cp -a {data}/raw {out}/raw
        """
        done = subprocess.run([*prefix, "bash", "-c", script], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        asked = server.stats["requests"]
    first_err, second_out = (out / "first.err").read_text(), (out / "second.out").read_text()
    assert (out / "first.rc").read_text().strip() == "1", first_err
    assert len(_error_lines(first_err)) == 1 and "Error: disk full while writing" in first_err
    assert "Traceback" not in first_err
    assert (out / "second.rc").read_text().strip() == "0", (out / "second.err").read_text()
    glob = out / "raw" / "responses" / "**" / "*.parquet"
    total, distinct, needed = duckdb.sql(
        f"select count(*), count(distinct response_id), count(*) filter (where arm <> 'code' and prompt <> '') "
        f"from read_parquet('{glob}')"
    ).fetchone()
    assert total == distinct == PLANNED
    assert needed <= asked <= needed + 5
    recovered = re.search(r"recovered (\d+) responses from the journal", second_out)
    already = re.search(r"(\d+) were already stored", second_out)
    assert recovered and already and recovered.group(1) == already.group(1) != "0"  # all the first run kept
    manifests = [json.loads(p.read_text()) for p in (out / "raw").rglob("run.json")]
    # the first run's last word could not be written on the full disk: it reads as a killed run does
    assert sorted(m["status"] for m in manifests) in (["done", "failed"], ["done", "running"])
    print(f"tmpfs: first run {first_err.strip().splitlines()[-1]!r}; second: {second_out.splitlines()[1].strip()}")
