"""New kinds end to end: problems generate into the warehouse; verifier verdicts and canonical answers
flow from the collector through the sandbox into dbt's graded layer."""

from __future__ import annotations

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from evalhouse.build import build
from evalhouse.cli import main
from evalhouse.ingest.collector import RunConfig, collect
from evalhouse.ingest.problems import get_kind

pytestmark = pytest.mark.slow

CONTRACT_COLUMNS = ["problem_id", "kind", "digit", "index", "question", "gold_answer", "instance_json"]
KINDS = [
    "ilp_prod",
    "tsp",
    "gcp_d",
    "bsp",
    "dijkstra",
    "topological_sort",
    "segments_intersect",
    "strongly_connected_components",
]


def test_generate_writes_contract_parquet(workdir, tmp_path):
    """`problems generate` writes the contract's columns under data/raw/problems and a copy at --out."""
    out = tmp_path / "suite.parquet"
    result = CliRunner().invoke(
        main, ["problems", "generate", "--kinds", "clrs,np_hard", "--digits", "3,5", "--n", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.column_names[: len(CONTRACT_COLUMNS)] == CONTRACT_COLUMNS
    assert table.num_rows == 30 * 2 * 2 + 9 * 2
    stored = list((workdir.problems).glob("*.parquet"))
    assert len(stored) == 1 and pq.read_table(stored[0]).equals(table)
    again = CliRunner().invoke(main, ["problems", "generate", "--kinds", "clrs,np_hard", "--digits", "3,5", "--n", "2"])
    assert again.exit_code == 0 and len(list(workdir.problems.glob("*.parquet"))) == 1  # same plan, same file


def test_unknown_kind_is_one_error_line(workdir):
    """A typo in --kinds ends in one `Error:` line that lists the known kinds."""
    result = CliRunner().invoke(main, ["problems", "generate", "--kinds", "add,tspp"])
    assert result.exit_code == 1 and result.output.startswith("Error: unknown kind 'tspp'")


def test_new_kinds_grade_through_the_warehouse(workdir, server):
    """Collected over the loopback endpoint and built with dbt: comparison kinds regrade in SQL to the same
    verdicts as Python, verifier kinds carry the verifier's verdict, and every kind has right and wrong answers."""
    config = RunConfig(
        models=["synthetic/atlas-large", "synthetic/boreal-lite"],
        kinds=KINDS,
        digits=[4],
        n=4,
        seeds=[0],
        base_url=server.url,
        concurrency=16,
        progress=False,
        exec_workers=2,
    )
    collect(config, workdir, api_key=None)
    build(workdir)
    con = duckdb.connect(str(workdir.warehouse), read_only=True)
    problems = con.execute("select kind, count(*) from staging.stg_problems group by kind").fetchall()
    assert {k for k, _ in problems} == set(KINDS)
    graded = con.execute(
        """
        select g.kind, g.arm, g.verdict, r.verdict as python_verdict, g.answer, g.gold
        from graded.graded_responses g join staging.stg_responses r using (response_id)
        """
    ).fetchall()
    assert len(graded) == 2 * 4 * 4 * len(KINDS)
    for kind, arm, verdict, python_verdict, answer, gold in graded:
        assert verdict == python_verdict, (kind, arm, answer, gold)
        if get_kind(kind).needs_verifier:
            assert verdict in ("correct", "wrong", "parse_error")
    by_kind = {}
    for kind, _, verdict, *_ in graded:
        by_kind.setdefault(kind, set()).add(verdict)
    for kind in KINDS:
        assert {"correct", "wrong"} <= by_kind[kind], kind
    code = con.execute(
        "select count(*) filter (where exec_status = 'ok'), count(*) from staging.stg_responses where arm = 'code' and parse_error is distinct from 'no_code'"
    ).fetchone()
    assert code[0] == code[1] > 0


def test_kinds_and_show_describe_the_suite():
    """`problems kinds` lists every kind with its family; `problems show` prints a question and its gold."""
    listing = CliRunner().invoke(main, ["problems", "kinds", "--family", "np_hard"])
    assert listing.exit_code == 0
    assert [line.split()[0] for line in listing.output.splitlines()] == [
        "spp",
        "tsp",
        "tsp_d",
        "msp",
        "ksp",
        "gcp",
        "gcp_d",
        "bsp",
        "edp",
    ]
    shown = CliRunner().invoke(main, ["problems", "show", "sub", "--digit", "6", "--index", "2"])
    p = get_kind("sub").make(6, 2)
    assert shown.exit_code == 0 and p.question in shown.output and f"gold_answer: {p.gold_answer}" in shown.output
