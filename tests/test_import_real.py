"""Importing every file of the shared legacy data: reconciled, idempotent, paired, regraded, re-read exactly."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from evalhouse.config import Paths
from evalhouse.ingest.answers import extract_answer, normalize
from evalhouse.ingest.collector import response_id
from evalhouse.ingest.importers import Options, import_paths

from .conftest import SHARED

TOOLPROJ = SHARED / "realdata" / "toolproj"
EXPS = TOOLPROJ / "src" / "exps_performance"
RUN_CSV = EXPS / "deepseek2_smoke_again" / "run_20250924_005007_results_seed_0.csv"
SEPT_MODEL = "deepseek-ai/deepseek-coder-7b-instruct-v1.5"


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """The whole shared folder imported, then the per-run CSV with its model: (paths, the two summaries)."""
    root = tmp_path_factory.mktemp("legacy")
    p = Paths(data=root / "data", warehouse=root / "warehouse" / "evalhouse.duckdb")
    folder = import_paths([TOOLPROJ], p, Options(progress=False))
    sept = import_paths([RUN_CSV], p, Options(model="deepseek-coder-7b-instruct-v1.5", progress=False))
    return p, folder, sept


def _sql(p: Paths, query: str) -> list[tuple]:
    con = duckdb.connect()
    con.execute(
        f"create view responses as select * from read_parquet('{p.responses}/**/*.parquet', union_by_name = true, hive_partitioning = false)"
    )
    con.execute(
        f"create view problems as select * from read_parquet('{p.problems}/**/*.parquet', union_by_name = true)"
    )
    return con.execute(query).fetchall()


def _records_in(path: Path) -> int:
    if path.suffix == ".jsonl":
        return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    with open(path, newline="", encoding="utf-8") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def test_every_shared_file_imports_with_a_reconciled_summary(imported):
    """Every per-sample file loads all its rows; aggregates are skipped; only the model-less CSV waits for --model."""
    p, folder, sept = imported
    assert folder.reconciles and sept.reconciles
    assert [path for path, _ in folder.refused] == [RUN_CSV]
    assert len(folder.skipped) == sum(1 for f in TOOLPROJ.rglob("*") if f.is_file()) - len(folder.files) - 1
    for result in folder.files + sept.files:
        assert result.rows_read == _records_in(result.path) == result.rows_loaded, result.path
        assert result.rows_quarantined == 0
    assert sept.files[0].responses == 3000
    written = _sql(p, "select count(*) from responses")[0][0]
    assert written == folder.total("responses") + sept.total("responses")


@pytest.mark.parametrize("run", ["deepseek-r1_seed4", "gpt-oss-20b_seed3", "claude-opus-4_seed2"])
def test_arms_that_never_ran_give_no_row(imported, run):
    """In the sim-only runs only `sim` rows exist, and the other three arms are counted as never ran."""
    p, folder, _ = imported
    [result] = [f for f in folder.files if run in str(f.path)]
    arms = _sql(p, f"select distinct arm from responses where source_file = '{result.path.resolve()}'")
    assert arms == [("sim",)]
    assert result.responses == result.rows_read and result.arms_never_ran == 3 * result.rows_read


def test_per_run_csv_arms_map_to_sim_and_code(imported):
    """In the older CSVs `correct_code` is arm sim and `correct_code_exec` is arm code, row for row."""
    p, _, _ = imported
    with open(RUN_CSV, newline="", encoding="utf-8") as fh:
        source = {int(r["idx"]): r for r in csv.DictReader(fh)}
    rows = _sql(
        p,
        f"""select source_row::int, arm, reported_correct, exec_status, latency_ms from responses
                       where model = '{SEPT_MODEL}'""",
    )
    assert {r[1] for r in rows} == {"nl", "sim", "code"}
    column = {"nl": "correct_nl", "sim": "correct_code", "code": "correct_code_exec"}
    for idx, arm, reported, status, latency in rows:
        assert reported == (source[idx][column[arm]] == "1")
        if arm == "code" and status == "ok":
            assert latency > 0  # duration_s from the execution dict


def test_seeds_and_models_pair_on_the_same_problem_ids(imported):
    """gpt-5-nano seeds 0 and 1 hold the same 366 instances; ids are in the legacy namespace."""
    p, _, _ = imported
    rows = _sql(
        p,
        """select seed, count(distinct problem_id) from responses
                      where model = 'openai/gpt-5-nano' group by seed order by seed""",
    )
    assert rows == [(0, 366), (1, 366)]
    shared = _sql(
        p,
        """select count(*) from (
        select problem_id from responses where model = 'openai/gpt-5-nano' and seed = 0
        intersect select problem_id from responses where model = 'openai/gpt-5-nano' and seed = 1)""",
    )
    assert shared == [(366,)]
    assert _sql(p, "select count(*) from problems where not starts_with(problem_id, 'toolproj')") == [(0,)]
    assert _sql(
        p,
        "select problem_id from responses where model = 'openai/gpt-5-nano' and kind = 'add' "
        "and digit = 2 order by problem_id limit 1",
    ) == [("toolproj/add/2/1",)]


def test_response_ids_are_the_collectors(imported):
    """response_id is collector.response_id(model, problem_id, arm, seed, 0), so re-imports dedup."""
    p, _, _ = imported
    rows = _sql(
        p, "select response_id, model, problem_id, arm, seed from responses using sample 300 rows (reservoir, 7)"
    )
    for rid, model, problem, arm, seed in rows:
        assert rid == response_id(model, problem, arm, seed, 0)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # literal_eval of replies with backslashes
def test_answers_are_read_as_the_collector_reads_them(imported):
    """For every reply, parsed_answer and parse_error equal extract_answer + the kind's normalize."""
    p, _, _ = imported
    rows = _sql(
        p,
        """select kind, response_text, parsed_answer, parse_error from responses
                      where arm in ('nl', 'sim', 'controlsim') and source <> 'legacy-run-csv'""",
    )
    assert len(rows) > 3000
    for kind, text, parsed, error in rows:
        extraction = extract_answer(text)
        expected = normalize(kind, extraction.answer)[::2] if extraction.ok else (None, extraction.error)
        assert (parsed, error) == expected, text[:200]


def test_golds_are_recomputed_exactly_and_signed(imported):
    """sub's gold is a−b signed (the source stored |a−b|); 16-digit add is exact (the source lost a digit)."""
    p, _, _ = imported
    gold = dict(_sql(p, "select question, gold_answer from problems where question is not null"))
    assert gold["Compute: 1229192435689187 - 8774199854573939"] == "-7545007418884752"
    assert gold["Compute: 9119335464439583 + 8774199854573939"] == "17893535319013522"
    source = dict(
        _sql(
            p,
            """select distinct p.question, r.gold_answer from responses as r join problems as p using (problem_id)
                             where p.question like 'Compute: 1229192435689187 - %'""",
        )
    )
    assert source["Compute: 1229192435689187 - 8774199854573939"] == "7545007418884752"


def test_kinds_without_a_recomputable_gold_keep_the_source_verdict(imported):
    """NP-hard, gsm8k and CLRS responses are graded with the source's verdict, marked source_verdict_only."""
    p, _, _ = imported
    rows = _sql(
        p,
        """select kind, count(*), count_if(verdict = case when reported_correct then 'correct' else 'wrong' end)
                      from responses where verdict_reason = 'source_verdict_only' group by kind""",
    )
    kinds = {k for k, _, _ in rows}
    assert {"spp", "tsp", "gcp", "gsm8k", "kmp_matcher"} <= kinds
    assert not kinds & {"add", "sub", "mul", "lcs", "knap", "rod"}
    assert all(n == agree for _, n, agree in rows)


def _state(p: Paths) -> dict[str, tuple[int, int]]:
    return {str(f): (f.stat().st_size, f.stat().st_mtime_ns) for f in p.raw.rglob("*") if f.is_file()}


def test_importing_the_same_files_again_changes_nothing(imported):
    """A second import of the same files writes nothing at all; without the record of it, the same bytes."""
    p, _, _ = imported
    before = _state(p)
    count = _sql(p, "select count(*) from responses")
    again = import_paths([TOOLPROJ], p, Options(progress=False))
    assert len(again.unchanged) == 20 and not again.files
    assert _state(p) == before
    shard = next(p.responses.rglob("*.parquet"))
    rows = pq.read_table(shard)
    shutil.rmtree(p.imports)
    rebuilt = import_paths([TOOLPROJ], p, Options(progress=False))
    assert len(rebuilt.files) == 20
    assert pq.read_table(shard).equals(rows)
    assert _sql(p, "select count(*) from responses") == count


def test_a_newer_copy_of_a_run_replaces_the_older(workdir, tmp_path):
    """Copies of one run: the newest file's rows are what is stored, in whatever order they are imported."""
    source = EXPS / "previous_results" / "screening" / "qwen3-32b_seed0" / "tb" / "run_20260110_124857" / "res.jsonl"
    lines = source.read_text(encoding="utf-8").splitlines()
    copies = {}
    for name, body, stamp in (
        ("partial", lines[:10], 1_700_000_000),
        ("final", lines, 1_800_000_000),
        ("draft", lines[:5], 1_600_000_000),
    ):
        path = tmp_path / name / "run_20260110_124857" / "res.jsonl"
        path.parent.mkdir(parents=True)
        path.write_text("\n".join(body) + "\n", encoding="utf-8")
        os.utime(path, (stamp, stamp))
        copies[name] = path

    def stored() -> tuple[int, str]:
        return duckdb.sql(f"""select count(*), any_value(source_file)
                              from read_parquet('{workdir.responses}/**/*.parquet')""").fetchone()

    import_paths([copies["partial"]], workdir, Options(progress=False))
    assert stored() == (40, str(copies["partial"].resolve()))
    import_paths([copies["final"]], workdir, Options(progress=False))
    assert stored() == (72, str(copies["final"].resolve()))
    late = import_paths([copies["draft"]], workdir, Options(progress=False))
    assert stored() == (72, str(copies["final"].resolve()))
    [result] = late.files
    assert (result.rows_read, result.rows_loaded, result.rows_superseded) == (5, 0, 5)
    assert result.superseded_by == [str(copies["final"].resolve())] and late.reconciles
    again = import_paths([copies["partial"]], workdir, Options(progress=False))
    assert again.unchanged == [copies["partial"]] and stored() == (72, str(copies["final"].resolve()))


@pytest.mark.parametrize("batch_bytes", [64 << 20, 1], ids=["one batch", "a batch per file"])
def test_both_copies_in_one_import_keep_the_newer(workdir, tmp_path, batch_bytes):
    """Given both copies at once, in one batch or in batches running side by side, the newer is loaded
    and the older reported as superseded."""
    source = EXPS / "previous_results" / "screening" / "qwen3-32b_seed0" / "tb" / "run_20260110_124857" / "res.jsonl"
    for name, stamp in (("a", 1_800_000_000), ("b", 1_700_000_000)):
        path = tmp_path / name / "run_20260110_124857" / "res.jsonl"
        path.parent.mkdir(parents=True)
        shutil.copy(source, path)
        os.utime(path, (stamp, stamp))
    summary = import_paths([tmp_path], workdir, Options(progress=False, batch_bytes=batch_bytes))
    by_name = {f.path.parent.parent.name: f for f in summary.files}
    assert (by_name["a"].rows_loaded, by_name["b"].rows_superseded) == (18, 18)
    assert summary.total("responses") == 72
    assert duckdb.sql(f"select count(*) from read_parquet('{workdir.responses}/**/*.parquet')").fetchone() == (72,)
