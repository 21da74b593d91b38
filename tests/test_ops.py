"""`evalhouse rerun`, `status` and `validate` on a real project: loopback endpoint, shards, dbt, DuckDB."""

from __future__ import annotations

import json
import logging

import duckdb
import pytest
from click.testing import CliRunner

from evalhouse.cli import main
from evalhouse.ops.logs import REDACTED, rerun_logging

from .ops_fixtures import CELLS, SECRET, SPEC

pytestmark = pytest.mark.slow


def _raw_counts(paths) -> tuple[int, int]:
    """Rows in the response shards and distinct response ids among them."""
    glob = str(paths.responses / "**" / "*.parquet")
    return duckdb.sql(
        f"select count(*), count(distinct response_id) from read_parquet('{glob}', union_by_name = true)"
    ).fetchone()


def _marts(paths) -> list[tuple]:
    con = duckdb.connect(str(paths.warehouse), read_only=True)
    try:
        return con.execute("select * from marts.acc_model_arm_kind_digit order by all").fetchall()
    finally:
        con.close()


def test_status_before_rerun_shows_failed_work_and_plan_without_sending(ops_project):
    """Status counts the stored errors and plans the missing cells, and sends no request to do so."""
    p = ops_project
    before = p.status_before
    assert p.faulty_errors > 0
    assert before["responses"]["failed"] == p.faulty_errors
    assert {f["error_class"] for f in before["failed"]} == {"server_error"}
    plan = before["next_rerun"]["specs"][0]
    assert plan["expected"] == CELLS
    assert plan["failed"] == p.faulty_errors
    assert plan["stored"] + plan["failed"] + plan["missing"] == CELLS
    assert plan["missing"] >= CELLS // 2  # the second model was never asked
    assert before["next_rerun"]["requests"] > 0
    assert p.requests_during_status == 0


def test_rerun_heals_failed_work_builds_and_refreshes_outputs(ops_project):
    """One rerun asks again for what failed, collects what is missing, builds, and rewrites data/outputs/."""
    p = ops_project
    assert p.rerun.exit_code == 0, p.rerun.output
    con = duckdb.connect(str(p.paths.warehouse), read_only=True)
    stored, answered = con.execute("select count(*), count_if(is_answered) from graded.graded_responses").fetchone()
    con.close()
    assert stored == answered == CELLS
    last = json.loads((p.paths.logs / "rerun-last.json").read_text())
    assert last["exit_code"] == 0 and last["outcome"] == "ok"
    assert last["specs"][0]["stored"] == CELLS - p.status_before["next_rerun"]["specs"][0]["stored"]
    out = p.paths.outputs
    assert (out / "report.html").stat().st_size > 10_000
    for figure in ("accuracy_by_arm", "accuracy_by_arm_kind", "accuracy_by_digit", "code_nl_heatmap", "forest_hubris"):
        assert (out / "analysis" / "figures" / f"{figure}.png").exists()
    assert json.loads((out / "analysis" / "code_vs_nl.json").read_text())["n_responses"] == CELLS
    hubris = json.loads((out / "analysis" / "lab_effects_hubris.json").read_text())
    all_models = next(f for f in hubris["mixed_effects"].values() if not f["models_excluded"])
    assert abs(all_models["effect"] - (-0.4206243)) < 1e-6
    assert json.loads((out / "validation.json").read_text())["passed"] is True


def test_rerun_log_holds_every_step_and_never_the_api_key(ops_project):
    """The log file tells the run's story; neither it nor the console ever shows the key."""
    p = ops_project
    log = (p.paths.logs / "rerun.log").read_text()
    for line in (
        "rerun started",
        "small.toml: ",
        "retry",
        "built ",
        "validation: all checks passed",
        "rerun finished: exit 0 (ok)",
    ):
        assert line in log
    assert SECRET not in log
    assert SECRET not in p.rerun.output
    assert SECRET not in (p.paths.outputs / "report.html").read_text()


def test_log_redacts_the_key_even_when_a_message_carries_it(tmp_path):
    """A record that quotes the key (say, in an exception) reaches the log file redacted."""
    log_file = tmp_path / "rerun.log"
    with rerun_logging(log_file, [SECRET], quiet=True) as log:
        try:
            raise RuntimeError(f"provider said: bad key {SECRET}")
        except RuntimeError:
            log.exception(f"request failed with Authorization: Bearer {SECRET}")
    text = log_file.read_text()
    assert SECRET not in text
    assert text.count(REDACTED) == 2
    assert not logging.getLogger("evalhouse").handlers


def test_status_after_rerun_reads_at_a_glance(ops_project):
    """Status lists the warehouse, runs, answered responses per arm, the next rerun's plan and the lock."""
    result = ops_project.invoke("status", "--experiments", str(ops_project.experiments))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Warehouse  " in out and ("MB" in out or "KB" in out)
    assert "Runs (" in out and "collector" in out
    assert "synthetic/atlas-large" in out and "synthetic/boreal-lite" in out
    assert "nl  sim  controlsim  code  failed" in out
    assert "small.toml: complete" in out
    assert "Lock       free" in out
    assert "exit 0 (ok)" in out


def test_validate_passes_on_a_complete_project(ops_project):
    """Every Phase-2 check passes on complete, graded data: exit 0 and five PASS lines."""
    result = ops_project.invoke("validate", "--experiments", str(ops_project.experiments))
    assert result.exit_code == 0, result.output
    assert [line.split()[1] for line in result.output.splitlines() if line.startswith("PASS")] == [
        "counts",
        "coverage",
        "accuracy",
        "verdicts",
        "balance",
    ]
    assert "5 of 5 checks passed; all passed" in result.output


def test_validate_names_what_a_larger_spec_still_lacks(ops_project, tmp_path):
    """Against a spec with one more instance and one more digit, counts and coverage fail and say where."""
    bigger = tmp_path / "experiments"
    bigger.mkdir()
    spec = (
        SPEC.format(url=ops_project.server.url)
        .replace("n = 2", "n = 3")
        .replace("digits = [2, 4]", "digits = [2, 4, 6]")
    )
    (bigger / "bigger.toml").write_text(spec)
    result = ops_project.invoke("validate", "--experiments", str(bigger))
    assert result.exit_code == 1
    out = result.output
    assert "FAIL  counts" in out and "FAIL  coverage" in out
    assert "PASS  accuracy" in out and "PASS  verdicts" in out and "PASS  balance" in out
    assert "synthetic/atlas-large seed 0: 32 of 72 collected (40 missing" in out
    assert "× digit 6: no answered response" in out
    assert out.rstrip().endswith("failed: counts, coverage")
    as_json = json.loads(ops_project.invoke("validate", "--json", "--experiments", str(bigger)).stdout)
    assert as_json["passed"] is False and as_json["failed"] == ["counts", "coverage"]


def test_validate_without_a_warehouse_is_one_error_line(workdir):
    """No warehouse yet: one `Error:` line naming the fix, exit 1."""
    result = CliRunner().invoke(main, ["validate"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: no warehouse at") and "evalhouse build" in result.output


def test_rerun_without_specs_stops_before_doing_anything(workdir, tmp_path):
    """No experiments/*.toml: exit 1 with an `Error:` line that says where it looked."""
    result = CliRunner().invoke(main, ["rerun", "--experiments", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert "Error: no experiment specs (*.toml) in" in result.output
    assert not workdir.warehouse.exists()


def test_rerun_with_a_bad_spec_names_it_and_runs_nothing(workdir, tmp_path):
    """One invalid spec stops the rerun before any request: exit 1 naming the file and the key."""
    experiments = tmp_path / "experiments"
    experiments.mkdir()
    (experiments / "a_good.toml").write_text(SPEC.format(url="http://127.0.0.1:9/v1"))
    (experiments / "b_bad.toml").write_text(SPEC.format(url="http://127.0.0.1:9/v1") + "temprature = 0.5\n")
    result = CliRunner().invoke(main, ["rerun", "--experiments", str(experiments)])
    assert result.exit_code == 1
    assert "Error: " in result.output and "b_bad.toml" in result.output and "temprature" in result.output
    assert not workdir.responses.exists() and not workdir.warehouse.exists()
    assert "b_bad.toml" in (workdir.logs / "rerun.log").read_text()


def test_second_rerun_sends_nothing_for_complete_work_and_exits_3_for_a_dead_endpoint(ops_project, tmp_path):
    """A complete spec sends and stores nothing and the warehouse stays as it is; an unreachable one means exit 3."""
    p = ops_project
    experiments = tmp_path / "experiments"
    experiments.mkdir()
    (experiments / "small.toml").write_text((p.experiments / "small.toml").read_text())
    down = SPEC.format(url="http://127.0.0.1:9/v1").replace('"synthetic/boreal-lite"', '"synthetic/boreal-pro"')
    (experiments / "down.toml").write_text(down)
    requests, raw, marts = p.server.stats["requests"], _raw_counts(p.paths), _marts(p.paths)
    built_before = p.paths.warehouse.stat().st_mtime_ns
    again = p.invoke("rerun", "--experiments", str(experiments))
    assert again.exit_code == 3, again.output
    assert "small.toml: complete" in again.output and "nothing to collect" in again.output
    assert (
        "Error: down.toml: endpoint http://127.0.0.1:9/v1 unreachable (ClientConnectorError: Cannot connect to host 127.0.0.1:9"
        in again.output
    )
    assert p.server.stats["requests"] == requests
    assert _raw_counts(p.paths) == raw
    assert "(up to date: nothing new)" in again.output
    assert p.paths.warehouse.stat().st_mtime_ns == built_before
    assert _marts(p.paths) == marts
    assert json.loads((p.paths.logs / "rerun-last.json").read_text())["outcome"] == "collect failed"


def test_rerun_over_a_corrupt_shard_names_it_and_keeps_the_warehouse(ops_project, tmp_path):
    """A file under data/raw that is not Parquet is named by status and rerun; the build fails: exit 4, old warehouse kept."""
    p = ops_project
    bad = p.paths.responses / "source=manual" / "part-broken.parquet"
    bad.parent.mkdir(parents=True)
    bad.write_text("model,answer\nnot,parquet\n")
    marts, built = _marts(p.paths), p.paths.warehouse.stat().st_mtime_ns
    try:
        status = p.invoke("status", "--experiments", str(p.experiments))
        result = p.invoke("rerun", "--experiments", str(p.experiments))
    finally:
        bad.unlink()
        bad.parent.rmdir()
    assert status.exit_code == 1 and status.output.startswith("Error: cannot read the shards under")
    assert "part-broken.parquet" in status.output and "Traceback" not in status.output
    assert result.exit_code == 4, result.output
    assert "Error: cannot read the stored responses" in result.output and "part-broken.parquet" in result.output
    assert "Error: cannot build: " in result.output and "not a readable Parquet shard" in result.output
    assert p.paths.warehouse.stat().st_mtime_ns == built and _marts(p.paths) == marts
    assert json.loads((p.paths.logs / "rerun-last.json").read_text())["outcome"] == "build failed"
