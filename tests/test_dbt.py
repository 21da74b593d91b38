"""The dbt project on real shards and a real DuckDB file: staging, grading, incremental builds, docs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from statsmodels.stats.proportion import proportion_confint

from evalhouse.build import BuildError, build, dbt_state_dir

from .conftest import REPO
from .warehouse_data import differences, failed, query, response, write_problems, write_responses

pytestmark = pytest.mark.slow

MARTS = [
    "acc_model_arm_kind",
    "acc_model_arm_kind_digit",
    "acc_lab_arm_kind",
    "code_nl_delta",
    "model_metrics",
    "run_health",
    "coverage",
    "grading_disagreements",
    "quarantine",
]


def verdicts(warehouse: Path) -> dict[str, tuple]:
    rows = query(warehouse, "select response_id, verdict, verdict_reason, answer from graded.graded_responses")
    return {r[0]: r[1:] for r in rows}


def test_empty_data_folder_builds_empty_marts(workdir):
    """With no shards at all every model builds, every test passes and the marts are empty."""
    result = build(workdir)
    assert result.mode == "full"
    tables = {
        f"{s}.{t}"
        for s, t in query(workdir.warehouse, "select table_schema, table_name from information_schema.tables")
    }
    assert {f"marts.{m}" for m in MARTS} <= tables
    assert {s.split(".")[0] for s in tables} == {"staging", "graded", "marts", "seeds"}
    assert query(workdir.warehouse, "select count(*) from graded.graded_responses") == [(0,)]


def test_staging_keeps_the_winning_attempt_and_reads_older_shards(workdir):
    """A success beats a later error, the latest success wins, and an older shard holding only the
    required columns is graded from its text."""
    write_problems(workdir, {"p1": "42", "p2": "7"})
    write_responses(
        workdir,
        [
            response("ok-then-error", minutes=0),
            response("twice", minutes=0, parsed_answer="41"),
            failed("only-error"),
            response("unparsed", parsed_answer=None, parse_error="no_json_object", verdict="parse_error"),
            response(
                "never-ran",
                arm="code",
                response_text="",
                parsed_answer=None,
                verdict="not_run",
                verdict_reason="sim_failed",
            ),
        ],
        run="run-1",
    )
    write_responses(
        workdir,
        [
            failed("ok-then-error", minutes=5),
            response("twice", minutes=5, parsed_answer="42"),
        ],
        run="run-2",
    )
    write_responses(
        workdir,
        [
            {**response("old-right", "p2", response_text='Sure. ```json\n{"answer": "7"}\n```'), "source": "legacy"},
            {**response("old-wrong", "p2", response_text="{'Answer': 1,234}"), "source": "legacy"},
            {**response("old-prose", "p2", response_text="I think it is 7."), "source": "legacy"},
        ],
        run="legacy-1",
        source="legacy",
        required_only=True,
    )
    build(workdir)

    got = verdicts(workdir.warehouse)
    assert got["ok-then-error"] == ("correct", "ok", "42")
    assert got["twice"] == ("correct", "ok", "42")
    assert got["only-error"] == ("api_error", "server_error", None)
    assert got["unparsed"] == ("parse_error", "no_json_object", None)
    assert got["never-ran"] == ("not_run", "sim_failed", None)
    assert got["old-right"] == ("correct", "ok", "7")
    assert got["old-wrong"] == ("wrong", "wrong_value", "1234")
    assert got["old-prose"] == ("parse_error", "no_json_object", None)
    assert query(
        workdir.warehouse, "select count(*), count(distinct response_id) from graded.int_responses_latest"
    ) == [(8, 8)]
    assert query(workdir.warehouse, "select count(*) from staging.stg_responses") == [(10,)]
    text = query(
        workdir.warehouse,
        "select t.response_text from staging.stg_response_texts as t join graded.graded_responses as g "
        "using (shard_id, shard_row) where g.response_id = 'twice'",
    )
    assert text == [('{"answer": 42}',)]
    # API errors and arms that never ran are not counted in n; the unparseable answer is, as not correct
    assert query(workdir.warehouse, "select sum(n), sum(n_correct) from marts.acc_model_arm_kind") == [(6, 3)]


def test_incremental_build_equals_a_full_rebuild(workdir, tmp_path):
    """After new shards (new responses, a retry that replaces a stored error) and a corrected gold, an
    incremental build touches only those rows and gives the same warehouse as building from scratch."""
    write_problems(workdir, {"p1": "42", "p2": "7", "p3": "5"})
    write_responses(
        workdir,
        [
            response(f"r{i}", f"p{1 + i % 3}", arm=["nl", "sim", "controlsim", "code"][i % 4], parsed_answer=str(i))
            for i in range(40)
        ]
        + [failed("retried"), failed("stays")],
    )
    first = build(workdir)
    assert first.mode == "full"

    write_responses(
        workdir, [response("retried", minutes=9), response("new-1", "p4"), response("new-2", "p2")], run="run-2"
    )
    write_problems(workdir, {"p3": "35", "p4": "42"}, name="problems-fixed")  # p3's gold corrected, p4 new
    (workdir.problems / "problems-test.parquet").unlink()
    write_problems(workdir, {"p1": "42", "p2": "7"}, name="problems-test")
    second = build(workdir)
    assert second.mode == "incremental", second.reason
    assert query(workdir.warehouse, "select mode, n_new_shards from marts.builds order by started_at") == [
        ("full", 1),
        ("incremental", 1),
    ]
    got = verdicts(workdir.warehouse)
    assert got["retried"][0] == "correct" and got["stays"][0] == "api_error"
    assert got["r35"] == ("correct", "ok", "35")  # p3 regraded against its corrected gold
    # the text view is not recreated for new rows, and reads them (and the retry's winning attempt)
    assert "stg_response_texts" not in second.log
    texts = query(
        workdir.warehouse,
        "select response_id from staging.stg_response_texts where response_id in ('new-1', 'retried')",
    )
    assert sorted(texts) == [("new-1",), ("retried",), ("retried",)]  # one row per attempt

    scratch = workdir.__class__(data=workdir.data, warehouse=tmp_path / "scratch" / "evalhouse.duckdb")
    build(scratch, full_refresh=True)
    assert set(differences(workdir.warehouse, scratch.warehouse).values()) == {0}


def test_incremental_build_removes_an_instance_no_longer_answered(workdir, tmp_path):
    """An incremental build recounts only the instances it graded again. When the later attempt that wins
    an instance's only response is one that never ran, the instance leaves marts.acc_model_arm_instance,
    as it would in a rebuild; the instances it did not touch keep their rows."""
    write_problems(workdir, {"p1": "42", "p2": "7"})
    write_responses(workdir, [response("kept", "p1", arm="code"), response("gone", "p2", arm="code")])
    build(workdir)
    instances = "select problem_id, n, n_correct from marts.acc_model_arm_instance order by problem_id"
    assert query(workdir.warehouse, instances) == [("p1", 1, 1), ("p2", 1, 0)]

    never_ran = {"exec_status": "not_run", "verdict": "not_run", "verdict_reason": "no_sandbox", "parsed_answer": None}
    write_responses(workdir, [response("gone", "p2", arm="code", minutes=9, **never_ran)], run="run-2")
    second = build(workdir)
    assert second.mode == "incremental", second.reason
    assert verdicts(workdir.warehouse)["gone"][0] == "not_run"
    assert query(workdir.warehouse, instances) == [("p1", 1, 1)]

    scratch = workdir.__class__(data=workdir.data, warehouse=tmp_path / "scratch" / "evalhouse.duckdb")
    build(scratch, full_refresh=True)
    assert set(differences(workdir.warehouse, scratch.warehouse).values()) == {0}


def test_incremental_build_removes_a_disagreement_a_corrected_gold_settles(workdir, tmp_path):
    """A source that called an answer wrong disagrees with the warehouse while the problem's gold says it is
    right; once the gold is corrected the two agree, and the incremental build drops the disagreement."""
    write_problems(workdir, {"p1": "42", "p2": "7"})
    write_responses(
        workdir,
        [response("settled", "p1", reported_correct=False), response("stays", "p2", reported_correct=True)],
        run="import-1",
        source="legacy",
    )
    build(workdir)
    listed = "select response_id from marts.grading_disagreements order by response_id"
    assert query(workdir.warehouse, listed) == [("settled",), ("stays",)]

    (workdir.problems / "problems-test.parquet").unlink()
    write_problems(workdir, {"p1": "41", "p2": "7"}, name="problems-fixed")
    second = build(workdir)
    assert second.mode == "incremental", second.reason
    assert query(workdir.warehouse, listed) == [("stays",)]

    scratch = workdir.__class__(data=workdir.data, warehouse=tmp_path / "scratch" / "evalhouse.duckdb")
    build(scratch, full_refresh=True)
    assert set(differences(workdir.warehouse, scratch.warehouse).values()) == {0}


def test_a_changed_shard_makes_the_next_build_full(workdir):
    """Rewriting a loaded shard (an importer replacing a run) cannot be applied incrementally."""
    shard = write_responses(workdir, [response("a"), response("b")], name="part-run")
    build(workdir)
    os.utime(shard, (shard.stat().st_atime, shard.stat().st_mtime - 3600))
    write_responses(workdir, [response("a", parsed_answer="1")], name="part-run")
    result = build(workdir)
    assert result.mode == "full" and "changed" in result.reason
    assert verdicts(workdir.warehouse)["a"][0] == "wrong"
    assert "b" not in verdicts(workdir.warehouse)


def test_wilson_intervals_match_statsmodels(small_warehouse):
    """Every cell's ci_low/ci_high equal statsmodels' Wilson interval for its accuracy over its instances
    (the unit: replicates of an instance count once)."""
    for mart in ("acc_model_arm_kind", "acc_model_arm_kind_digit", "acc_model_arm", "acc_lab_arm_kind"):
        rows = query(small_warehouse.warehouse, f"select n_correct, n, n_instances, ci_low, ci_high from marts.{mart}")
        assert rows and any(n > units for _, n, units, _, _ in rows)  # the data has replicates
        for k, n, units, low, high in rows:
            want = proportion_confint(k / n * units, units, alpha=0.05, method="wilson")
            assert (low, high) == pytest.approx(want, abs=1e-12), mart


def test_plain_dbt_build_and_docs_describe_every_relation(tmp_path):
    """A plain `dbt build` from the root works, `dbt docs generate` works, and every model and every
    column of the warehouse has a description."""
    env = {
        **os.environ,
        "EVALHOUSE_DATA": str(tmp_path / "data"),
        "EVALHOUSE_WAREHOUSE": str(tmp_path / "wh.duckdb"),
        "EVALHOUSE_TEMP_DIRECTORY": str(tmp_path / "tmp"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    env.pop("EVALHOUSE_BUILD_PATH", None)
    dbt = str(Path(sys.executable).parent / "dbt")
    target = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    for command in (["build"], ["docs", "generate"]):
        out = subprocess.run([dbt, *command, *target], cwd=REPO, env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stdout[-3000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    catalog = json.loads((tmp_path / "target" / "catalog.json").read_text())
    undocumented = []
    for node_id, entry in catalog["nodes"].items():
        node = manifest["nodes"][node_id]
        if not node["description"].strip():
            undocumented.append(node_id)
        documented = {c.lower() for c, spec in node["columns"].items() if spec["description"].strip()}
        undocumented += [f"{node_id}.{c}" for c in entry["columns"] if c.lower() not in documented]
    assert undocumented == [], undocumented
    assert {n.split(".")[-1] for n in catalog["nodes"]} >= set(MARTS) | {"graded_responses", "stg_responses"}
    shutil.rmtree(tmp_path / "target")


def test_new_columns_in_new_shards_reach_the_staging_views(workdir):
    """Shards holding only the required columns, then a shard with the collector's columns: the
    incremental build rebuilds the staging views, which now read the new columns."""
    write_problems(workdir, {"p1": "42"})
    write_responses(workdir, [response("old")], required_only=True, run="legacy")
    build(workdir)
    write_responses(workdir, [response("new", parsed_answer=None, parse_error="no_json_object", verdict="parse_error")])
    assert build(workdir).mode == "incremental"
    rows = query(workdir.warehouse, "select response_id, parse_error from staging.stg_responses order by 1")
    assert rows == [("new", "no_json_object"), ("old", None)]
    assert verdicts(workdir.warehouse)["new"] == ("parse_error", "no_json_object", None)


def test_grain_test_reports_a_repeated_key_and_a_null_key(workdir, tmp_path):
    """The grain test (macros/tests.sql) passes the table as built, and reports a key stored twice and a
    row whose key is null, each once, even though it looks for repeated keys by their hash first."""
    write_problems(workdir, {"p1": "42"})
    write_responses(workdir, [response("a"), response("b"), response("c")])
    build(workdir)
    compiled = next(dbt_state_dir(workdir.warehouse).glob("target/compiled/**/grain_graded_responses_*.sql"))
    sql = compiled.read_text()
    catalog = re.search(r'"([^"]+)"\."graded"\."graded_responses"', sql).group(1)
    copy = tmp_path / "copy.duckdb"
    shutil.copy(workdir.warehouse, copy)
    con = duckdb.connect()
    con.execute(f'attach \'{copy}\' as "{catalog}"; use "{catalog}"')
    assert con.execute(sql).fetchall() == []

    con.execute("insert into graded.graded_responses select * from graded.graded_responses where response_id = 'a'")
    con.execute("update graded.graded_responses set response_id = null where response_id = 'b'")
    failures = sorted(con.execute(sql).fetchall(), key=str)
    assert failures == [("a", "more than one row"), (None, "a key column is null or the invariant fails")]


def test_seed_checks_run_until_the_same_project_has_built_the_warehouse(workdir, tmp_path):
    """The seeds' tests (tag project_data) check the project's own files: they run on a project's first
    build, are skipped once the same project built the warehouse, and a changed seed makes them run (and
    fail) again."""
    write_problems(workdir, {"p1": "42"})
    write_responses(workdir, [response("a")])
    first = build(workdir)
    assert "unique_arms_arm" in first.log and "grain_graded_responses" in first.log
    again = build(workdir, full_refresh=True)
    assert "unique_arms_arm" not in again.log and "grain_graded_responses" in again.log

    project = tmp_path / "project"
    for name in ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests/dbt"):
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        copy(REPO / name, project / name)
    arms = project / "seeds" / "arms.csv"
    arms.write_text(arms.read_text() + arms.read_text().splitlines()[1] + "\n")  # a duplicated arm
    with pytest.raises(BuildError, match="unique_arms_arm"):
        build(workdir, project_dir=project, full_refresh=True)
