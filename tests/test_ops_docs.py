"""The README's operating and ad-hoc SQL sections say what the code does, and their queries run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from evalhouse.cli import main
from evalhouse.ops.rerun import ExitCode

from .conftest import REPO

DUCKDB = str(Path(sys.executable).parent / "duckdb")


def _section(title: str) -> str:
    text = (REPO / "README.md").read_text()
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def _queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", _section("Ad-hoc SQL"), re.DOTALL)


def test_readme_has_five_queries():
    """The Ad-hoc SQL section offers at least five queries and the shell command that opens the warehouse."""
    assert len(_queries()) >= 5
    assert "duckdb -readonly warehouse/evalhouse.duckdb" in _section("Ad-hoc SQL")


@pytest.mark.slow
@pytest.mark.parametrize("index", range(5))
def test_readme_query_runs_in_the_duckdb_shell(ops_project, index):
    """Each README query runs in the PyPI DuckDB shell against a built warehouse and returns rows."""
    sql = _queries()[index]
    shell = subprocess.run(
        [DUCKDB, "-readonly", "warehouse/evalhouse.duckdb", "-csv", "-c", sql],
        cwd=ops_project.root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shell.returncode == 0, shell.stderr
    lines = shell.stdout.strip().splitlines()
    assert len(lines) >= 2, f"no rows from:\n{sql}"


def test_exit_codes_agree_in_readme_help_and_code():
    """The README's exit-code table, `rerun --help` and ExitCode name the same codes."""
    table = re.findall(r"^\| (\d+) \|", _section("Operating it"), re.MULTILINE)
    help_text = CliRunner().invoke(main, ["rerun", "--help"]).output
    in_help = re.findall(r"^\s{2,}(\d+)\s{2,}\S", help_text, re.MULTILINE)
    codes = sorted(int(c) for c in ExitCode)
    assert sorted(map(int, table)) == codes
    assert sorted(map(int, in_help)) == codes
