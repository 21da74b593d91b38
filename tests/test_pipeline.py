"""The walking skeleton end to end on real parts: loopback HTTP endpoint, Parquet shards, dbt, DuckDB."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from evalhouse.ingest.collector import RunConfig, collect

pytestmark = pytest.mark.slow


def _shards(p) -> str:
    return str(p.responses / "**" / "*.parquet")


def test_collect_writes_every_arm_and_resume_asks_nothing(workdir, server):
    """A run stores one row per (model, problem, arm, seed); a second run sends no request."""
    config = RunConfig(
        models=["synthetic/atlas-large", "synthetic/boreal-lite"],
        kinds=["add", "lcs"],
        digits=[2],
        n=3,
        seeds=[0, 1],
        base_url=server.url,
        concurrency=8,
        progress=False,
    )
    _, summary = collect(config, workdir, api_key=None)
    expected = 2 * 2 * 3 * 2 * 4  # models × kinds × n × seeds × arms
    con = duckdb.connect()
    rows = con.execute(
        f"select arm, count(*), count(distinct response_id) from read_parquet('{_shards(workdir)}') group by arm"
    ).fetchall()
    assert sum(r[1] for r in rows) == expected
    assert all(r[1] == r[2] == expected // 4 for r in rows)
    assert summary.done == expected
    before = server.stats["requests"]
    _, again = collect(config, workdir, api_key=None)
    assert again.done == 0 and again.skipped == expected
    assert server.stats["requests"] == before


def test_code_arm_runs_the_sim_program(workdir, server):
    """The code row's prompt is the sim answer's program and its text is what the program printed."""
    config = RunConfig(
        models=["synthetic/atlas-large"],
        kinds=["mul"],
        digits=[4],
        n=2,
        seeds=[0],
        arms=["sim", "code"],
        base_url=server.url,
        progress=False,
    )
    collect(config, workdir, api_key=None)
    con = duckdb.connect()
    code_rows = con.execute(
        f"select prompt, response_text, exec_status, prompt_tokens from read_parquet('{_shards(workdir)}') where arm = 'code'"
    ).fetchall()
    assert len(code_rows) == 2
    for prompt, stdout, status, tokens in code_rows:
        if prompt:
            assert "def solve" in prompt and status == "ok" and stdout.strip()
        assert tokens is None


def test_marts_match_direct_counts_over_shards(small_warehouse):
    """Every acc_model_arm_kind row's n and n_correct equal a count over the Parquet shards."""
    p = small_warehouse
    con = duckdb.connect(str(p.warehouse), read_only=True)
    mart = con.execute("select model, arm, kind, n, n_correct from marts.acc_model_arm_kind order by all").fetchall()
    direct = con.execute(
        f"""
        select s.model, s.arm, s.kind, count(*) as n,
               count_if(coalesce(s.parsed_answer = pr.gold_answer, false)) as n_correct
        from read_parquet('{_shards(p)}') s
        join read_parquet('{p.problems}/*.parquet') pr using (problem_id)
        where s.error is null
        group by all order by all
        """
    ).fetchall()
    assert mart == direct
    assert len(mart) == 3 * 4 * 6


def test_schemas_and_marts_exist(small_warehouse):
    con = duckdb.connect(str(small_warehouse.warehouse), read_only=True)
    tables = set(con.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall())
    names = {t[0] for t in tables}
    for mart in [
        "acc_model_arm_kind",
        "acc_model_arm_kind_digit",
        "acc_lab_arm_kind",
        "code_nl_delta",
        "model_metrics",
        "run_health",
        "coverage",
        "grading_disagreements",
        "quarantine",
    ]:
        assert f"marts.{mart}" in names
    assert any(n.startswith("staging.") for n in names) and any(n.startswith("graded.") for n in names)


def test_duckdb_shell_opens_the_warehouse(small_warehouse):
    """The PyPI DuckDB shell (duckdb-cli) reads the file the build wrote."""
    shell = Path(sys.executable).parent / "duckdb"
    out = subprocess.run(
        [
            str(shell),
            "-readonly",
            str(small_warehouse.warehouse),
            "-csv",
            "-c",
            "select count(*) > 0 from marts.acc_model_arm_kind",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip().splitlines()[-1] == "true"
