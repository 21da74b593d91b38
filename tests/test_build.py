"""`evalhouse build` and the DuckDB shell sharing one warehouse file: real `duckdb` processes, real builds."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from evalhouse.build import BuildError, build
from evalhouse.cli import main

from .conftest import REPO
from .warehouse_data import query, response, write_problems, write_responses

pytestmark = pytest.mark.slow

SHELL = str(Path(sys.executable).parent / "duckdb")


class Shell:
    """A `duckdb` shell process holding the warehouse open, answering queries sent on its stdin."""

    def __init__(self, warehouse: Path, readonly: bool = True):
        args = [SHELL, "-csv", "-noheader"] + (["-readonly"] if readonly else []) + [str(warehouse)]
        self.proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )

    def ask(self, sql: str) -> str:
        """Run one query; its single-line answer (the shell echoes a marker after it to delimit it)."""
        self.proc.stdin.write(f"{sql};\nselect 'END-OF-ANSWER';\n")
        self.proc.stdin.flush()
        lines = []
        for line in self.proc.stdout:
            if line.strip() == "END-OF-ANSWER":
                return "\n".join(lines)
            lines.append(line.strip())
        raise AssertionError("the shell exited: " + "\n".join(lines))

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()


@pytest.fixture
def built(workdir):
    """A warehouse built from two responses, and the folder it lives in."""
    write_problems(workdir, {"p1": "42"})
    write_responses(workdir, [response("a"), response("b", arm="sim")])
    build(workdir)
    return workdir


def test_reader_in_the_duckdb_shell_keeps_its_warehouse_during_a_build(built):
    """A `duckdb -readonly` shell open on the warehouse does not stop a build; it keeps reading the old,
    complete warehouse, and a shell opened afterwards reads the new one."""
    reader = Shell(built.warehouse)
    try:
        assert reader.ask("select count(*) from graded.graded_responses") == "2"
        write_responses(built, [response("c", arm="code")], run="run-2")
        result = build(built)
        assert result.mode == "incremental"
        assert reader.ask("select count(*) from graded.graded_responses") == "2"
        assert reader.ask("select sum(n) from marts.acc_model_arm_kind") == "2"
    finally:
        reader.close()
    after = Shell(built.warehouse)
    try:
        assert after.ask("select count(*) from graded.graded_responses") == "3"
    finally:
        after.close()


def test_a_writer_holding_the_warehouse_makes_a_build_fail_at_once(built):
    """A shell holding the file open for writing makes the build fail within seconds, naming the
    process and the remedy; the warehouse is left as it was."""
    writer = Shell(built.warehouse, readonly=False)
    try:
        assert writer.ask("select count(*) from graded.graded_responses") == "2"
        before = built.warehouse.stat().st_mtime_ns
        start = time.monotonic()
        with pytest.raises(BuildError) as err:
            build(built)
        assert time.monotonic() - start < 10
        message = str(err.value)
        # the PyPI shell is a launcher whose child holds the file: the message names that process
        assert re.search(r"open for writing by \S*duckdb \(PID \d+\)", message), message
        assert "duckdb -readonly" in message
        assert built.warehouse.stat().st_mtime_ns == before
    finally:
        writer.close()
    assert not list(built.warehouse.parent.glob(".*.building*"))


def test_a_second_concurrent_build_fails_at_once(built):
    """While one build runs (another process), a second build of the same warehouse fails at once,
    naming the first; the first completes."""
    write_responses(built, [response("c", arm="code")], run="run-2")
    env = {**os.environ, "EVALHOUSE_DATA": str(built.data), "EVALHOUSE_WAREHOUSE": str(built.warehouse)}
    first = subprocess.Popen(
        [str(Path(sys.executable).parent / "evalhouse"), "build"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    holder = Path(str(built.warehouse) + ".build.lock.json")
    deadline = time.monotonic() + 60
    while not holder.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert holder.exists(), "the first build never took the lock"
    start = time.monotonic()
    with pytest.raises(BuildError) as err:
        build(built)
    assert time.monotonic() - start < 5
    assert f"pid {first.pid} " in str(err.value) and "another `evalhouse build`" in str(err.value)
    out, _ = first.communicate(timeout=300)
    assert first.returncode == 0, out
    assert query(built.warehouse, "select count(*) from graded.graded_responses") == [(3,)]


def test_a_failing_build_leaves_the_old_warehouse(built):
    """When a dbt test fails (an arm the seed does not know) nothing is swapped in and no temporary
    file is left behind; the error names the failing test."""
    before = built.warehouse.read_bytes()
    write_responses(built, [response("z", arm="telepathy")], run="run-2")
    with pytest.raises(BuildError) as err:
        build(built)
    assert "relationships_graded_responses_arm" in str(err.value)
    assert built.warehouse.read_bytes() == before
    assert not list(built.warehouse.parent.glob(".*.building*"))


def test_cli_build_reports_what_it_did_and_errors(built):
    """`evalhouse build` says how it built (incremental with a new shard, then nothing to do); a user's
    problem is one `Error:` line and exit code 1."""
    runner = CliRunner()
    write_responses(built, [response("c", arm="code")], run="run-2")
    ok = runner.invoke(main, ["build"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith(f"built {built.warehouse} in ") and "(incremental: 1 new shard)" in ok.output
    again = runner.invoke(main, ["build"])
    assert again.exit_code == 0 and "(up to date: nothing new)" in again.output
    writer = Shell(built.warehouse, readonly=False)
    try:
        writer.ask("select 1")
        bad = runner.invoke(main, ["build"])
    finally:
        writer.close()
    assert bad.exit_code == 1
    assert bad.output.startswith("Error: ") and "Traceback" not in bad.output
    nothing = runner.invoke(main, ["build", "--full-refresh", "--select", "tag:no_such_tag"])
    assert nothing.exit_code == 1 and nothing.output.startswith("Error: --select 'tag:no_such_tag' matched no model")
    assert "(up to date: nothing new)" in runner.invoke(main, ["build"]).output  # the warehouse was left as it was
