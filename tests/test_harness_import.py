"""Importing other harnesses' logs, written by the harnesses themselves: inspect (run here with its mockllm
model), lm-evaluation-harness and HELM (folders written by tests/fixtures/harness/make_fixtures.sh)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from evalhouse.cli import main
from evalhouse.config import Paths
from evalhouse.ingest.harness.models import normalise
from evalhouse.ingest.importers import Options, import_paths

from .harness_logs import FIXTURES, ID_A, ID_B, write_logs

LM_EVAL = FIXTURES / "lm_eval"
HELM = FIXTURES / "helm" / "runs" / "test"


@pytest.fixture(scope="session")
def inspect_logs(tmp_path_factory) -> dict[str, Path]:
    """Real inspect logs (two models, two tasks, .eval and .json), and logs derived from them by inspect."""
    return write_logs(tmp_path_factory.mktemp("inspect-logs"))


def _import(p: Paths, *paths: Path):
    return import_paths(list(paths), p, Options(progress=False))


def _rows(p: Paths, table: str, where: str = "true") -> list[dict]:
    glob = p.raw / table / "**" / "*.parquet"
    if not list((p.raw / table).rglob("*.parquet")):
        return []
    rel = duckdb.sql(f"select * from read_parquet('{glob}', hive_partitioning = false) where {where}")
    return [dict(zip(rel.columns, row)) for row in rel.fetchall()]


def _quarantine(p: Paths) -> list[tuple]:
    if not list(p.quarantine.rglob("*.parquet")):
        return []
    return duckdb.sql(
        f"select file, line, reason from read_parquet('{p.quarantine}/**/*.parquet') order by all"
    ).fetchall()


# -- inspect ----------------------------------------------------------------------------------------
def test_inspect_eval_log_every_sample_epoch_and_scorer(workdir, inspect_logs):
    """An .eval log with two scorers and two epochs: one row per sample × epoch × scorer, C/I read as 1/0."""
    log = inspect_logs["arith-a"]
    summary = _import(workdir, log)
    [result] = summary.harness
    assert (result.source, result.model, result.counts.records_read) == ("inspect", ID_A, 12)
    assert result.reconciles and result.counts.records_quarantined == 0
    rows = _rows(workdir, "benchmark_samples")
    assert len(rows) == 6 * 2 * 2
    assert {r["scorer"] for r in rows} == {"match", "includes"} and {r["epoch"] for r in rows} == {1, 2}
    assert {(r["value_text"], r["value"]) for r in rows} <= {("C", 1.0), ("I", 0.0)}
    assert {r["value_text"] for r in rows} == {"C", "I"}  # the mock model is right on some, wrong on others
    q3 = next(r for r in rows if r["sample_id"] == "q3" and r["scorer"] == "match" and r["epoch"] == 1)
    assert q3["input"] == "Compute 3 plus 6." and q3["target"] == "9" and q3["output"].startswith("The answer is ")
    assert q3["input_tokens"] == 4 and q3["total_tokens"] == q3["input_tokens"] + q3["output_tokens"]
    assert q3["metric"] == "accuracy" and q3["model_as_given"] == "mockllm/meta-llama/Llama-3.1-8B-Instruct"
    assert q3["source_file"] == str(log.resolve()) and q3["source_member"].startswith("samples/q3_epoch_1")


def test_inspect_reported_scores_carry_their_stderr(workdir, inspect_logs):
    """results.scores become one row per scorer × metric; inspect's stderr metric is the stderr of accuracy."""
    from inspect_ai.log import read_eval_log

    log = inspect_logs["arith-a"]
    _import(workdir, log)
    expected = {(s.name, m.name): m.value for s in read_eval_log(str(log)).results.scores for m in s.metrics.values()}
    scores = {(r["scorer"], r["metric"]): r for r in _rows(workdir, "benchmark_scores")}
    assert set(scores) == {("match", "accuracy"), ("includes", "accuracy")}
    for scorer in ("match", "includes"):
        assert scores[(scorer, "accuracy")]["value"] == expected[(scorer, "accuracy")]
        assert scores[(scorer, "accuracy")]["stderr"] == expected[(scorer, "stderr")]
        assert scores[(scorer, "accuracy")]["n_samples"] == 6


def test_inspect_json_log_reads_like_the_eval_log(workdir, inspect_logs):
    """A .json log gives the same rows as an .eval log would: every sample × epoch × scorer, and its scores."""
    summary = _import(workdir, inspect_logs["arith-b"], inspect_logs["arc_easy_mini-b"])
    assert {r.model for r in summary.harness} == {ID_B}
    rows = _rows(workdir, "benchmark_samples")
    assert len([r for r in rows if r["task"] == "arith"]) == 24
    arc = [r for r in rows if r["task"] == "arc_easy_mini"]
    assert len(arc) == 12 and {r["scorer"] for r in arc} == {"choice"} and {r["answer"] for r in arc} <= {"A", "C"}
    assert len(_rows(workdir, "benchmark_scores")) == 3


def test_cut_empty_and_unfinished_logs(workdir, inspect_logs):
    """A log whose sample list was cut keeps what it has and its scores; one with no samples gives its scores;
    one a killed run left (no header) gives its samples and no scores."""
    summary = _import(
        workdir, inspect_logs["arith-cut"], inspect_logs["arith-empty"], inspect_logs["arith-in-progress"]
    )
    by_file = {r.path.name: r for r in summary.harness}
    assert by_file["arith-cut.eval"].counts.records_read == 5 and by_file["arith-cut.eval"].counts.score_rows == 2
    assert by_file["arith-empty.json"].counts.records_read == 0 and by_file["arith-empty.json"].counts.score_rows == 2
    unfinished = by_file["arith-in-progress.eval"].counts
    assert (unfinished.records_read, unfinished.sample_rows, unfinished.score_rows) == (12, 24, 0)
    assert summary.reconciles


def test_a_score_inspect_cannot_read_is_quarantined_with_file_and_position(workdir, inspect_logs):
    """A sample whose score is no number nor C/I/P/N: quarantined with the log, its position and the member;
    the other samples load and the counts reconcile."""
    log = inspect_logs["arith-bad"]
    result = CliRunner().invoke(main, ["ingest", "import", str(log), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "records: 12 read = 11 loaded + 1 quarantined" in result.output
    [(file, line, reason)] = _quarantine(workdir)
    assert file == str(log.resolve()) and line == 1
    assert reason.startswith("samples/q0_epoch_1.json: score 'match' value 'maybe' is not a number")
    assert len(_rows(workdir, "benchmark_samples")) == 22


def test_reimporting_adds_nothing(workdir, inspect_logs, tmp_path):
    """The same log imported again is skipped; a copy touched since (read again) replaces its own shards."""
    log = shutil.copy(inspect_logs["arith-a"], tmp_path / "arith.eval")
    first = _import(workdir, Path(log))
    shards = sorted(workdir.raw.rglob("benchmark_*/**/*.parquet"))
    again = _import(workdir, Path(log))
    assert again.harness == [] and again.unchanged == [Path(log)]
    os.utime(log, ns=(1, 1))
    third = _import(workdir, Path(log))
    assert len(third.harness) == 1 and third.harness[0].run_id == first.harness[0].run_id
    assert sorted(workdir.raw.rglob("benchmark_*/**/*.parquet")) == shards
    assert len(_rows(workdir, "benchmark_samples")) == 24


# -- lm-evaluation-harness --------------------------------------------------------------------------
def test_lm_eval_results_with_filters_and_stderr(workdir):
    """results[task]["metric,filter"] with its stderr and n-samples; one run per results file."""
    import json

    folder = LM_EVAL / "meta-llama__Llama-3.1-8B-Instruct"
    [results_file] = folder.glob("results_*.json")
    summary = _import(workdir, folder)
    [result] = summary.harness
    assert (result.source, result.model) == ("lm_eval", ID_A) and len(summary.parts) == 2
    report = json.loads(results_file.read_text())["results"]
    scores = {(r["task"], r["metric"], r["filter"]): r for r in _rows(workdir, "benchmark_scores")}
    assert set(scores) == {
        ("arc_easy_mini", "acc", "none"),
        ("arc_easy_mini", "acc_norm", "none"),
        ("arith_gen", "exact_match", "strict-match"),
        ("arith_gen", "exact_match", "flexible-extract"),
    }
    acc = scores[("arc_easy_mini", "acc", "none")]
    assert acc["value"] == report["arc_easy_mini"]["acc,none"]
    assert acc["stderr"] == report["arc_easy_mini"]["acc_stderr,none"]
    assert (acc["n_samples"], acc["split"]) == (12, "test")


def test_lm_eval_samples_per_doc_filter_and_metric(workdir):
    """Each doc × filter × metric of the samples files is a row: doc id, prompt, target, filtered response."""
    _import(workdir, LM_EVAL / "meta-llama__Llama-3.1-8B-Instruct")
    rows = _rows(workdir, "benchmark_samples")
    arc = [r for r in rows if r["task"] == "arc_easy_mini"]
    assert len(arc) == 12 * 2 and {r["metric"] for r in arc} == {"acc", "acc_norm"}
    assert {r["sample_id"] for r in arc} == {str(i) for i in range(12)} and {r["value"] for r in arc} <= {0.0, 1.0}
    gen = [r for r in rows if r["task"] == "arith_gen"]
    assert {(r["filter"], r["metric"]) for r in gen} == {
        ("strict-match", "exact_match"),
        ("flexible-extract", "exact_match"),
    }
    doc0 = next(r for r in gen if r["sample_id"] == "0" and r["filter"] == "strict-match")
    assert doc0["input"].startswith("Question: Compute 0 plus 3.") and doc0["target"] == "3"
    assert doc0["output"] == "lol" and doc0["answer"] == '["[invalid]"]'


def test_lm_eval_cut_and_sampleless_runs(workdir):
    """A run cut with --limit reports its effective n; one run without --log_samples gives scores only."""
    summary = _import(workdir, LM_EVAL / "cut", LM_EVAL / "no_samples")
    by_folder = {r.path.parent.parent.name: r for r in summary.harness}
    assert by_folder["cut"].counts.records_read == 5 + 5 * 2
    assert by_folder["no_samples"].counts.records_read == 0 and by_folder["no_samples"].counts.score_rows == 4
    cut = [r for r in _rows(workdir, "benchmark_scores") if r["run_id"] == by_folder["cut"].run_id]
    assert {r["n_samples"] for r in cut} == {5}
    assert by_folder["cut"].model == "Qwen/Qwen2.5-7B-Instruct"  # not in the registry: kept, reported
    assert (
        summary.unknown_models["pretrained=Qwen/Qwen2.5-7B-Instruct"]
        or summary.unknown_models["Qwen/Qwen2.5-7B-Instruct"]
    )


def test_lm_eval_torn_sample_line_is_quarantined(workdir, tmp_path):
    """A samples file whose last line is torn: that line is quarantined with its number, the rest load."""
    folder = shutil.copytree(LM_EVAL / "meta-llama__Llama-3.1-8B-Instruct", tmp_path / "run")
    [samples] = folder.glob("samples_arc_easy_mini_*.jsonl")
    with open(samples, "a") as fh:
        fh.write('{"doc_id": 12, "doc": {"question"')
    summary = _import(workdir, folder)
    [result] = summary.harness
    assert (result.counts.records_read, result.counts.records_quarantined) == (12 + 12 + 1, 1)
    [(file, line, reason)] = _quarantine(workdir)
    assert file == str(next(folder.glob("results_*.json")).resolve())
    assert line == 13 and reason.startswith(f"{samples.name}: not a JSON object")


# -- HELM -------------------------------------------------------------------------------------------
def test_helm_run_folder_stats_and_instances(workdir):
    """A HELM run: stats.json as reported scores per split, per_instance_stats per instance × train trial,
    joined to the request states for input, correct references and output."""
    run = HELM / "simple1:model=simple_model1"
    summary = _import(workdir, run)
    [result] = summary.harness
    assert (result.source, result.model) == ("helm", "simple/model1") and summary.unknown_models["simple/model1"]
    assert {p.name for p, _ in summary.parts} >= {"stats.json", "per_instance_stats.json", "scenario_state.json"}
    scores = _rows(workdir, "benchmark_scores")
    assert {r["task"] for r in scores} == {"simple1"} and {r["split"] for r in scores} == {"test"}
    assert all(r["stderr"] is None for r in scores)  # HELM reports none
    rows = _rows(workdir, "benchmark_samples", "metric = 'num_references'")
    assert len({(r["sample_id"], r["epoch"]) for r in rows}) == 10 * 3  # ten instances, three train trials
    one = _rows(workdir, "benchmark_samples", "sample_id = 'id10' and epoch = 1 and metric = 'num_output_tokens'")[0]
    assert one["input"] == "12 18 1 15 7" and one["target"] == "15" and one["output"] is not None
    assert one["input_tokens"] and one["perturbation"] is None


def test_helm_perturbations_are_kept_apart(workdir):
    """A run with data augmentation: perturbed instances and stats carry their perturbation, beside the originals."""
    _import(workdir, HELM / "simple1:model=simple_model1,data_augmentation=robustness")
    scores = _rows(workdir, "benchmark_scores", "metric = 'num_prompt_tokens'")
    assert {r["perturbation"] for r in scores} >= {None, "mild_mix/perturbed", "robustness/worst"}
    assert all(r["task"] == "simple1:data_augmentation=robustness" for r in scores)
    rows = _rows(workdir, "benchmark_samples", "sample_id = 'id10' and metric = 'num_prompt_tokens' and epoch = 1")
    assert {r["perturbation"] for r in rows} == {None, "mild_mix/perturbed"}
    perturbed = next(r for r in rows if r["perturbation"])
    assert perturbed["input"] != next(r for r in rows if not r["perturbation"])["input"]


# -- detection, refusal, model names ----------------------------------------------------------------
def test_unknown_file_is_refused_in_one_line(workdir, tmp_path):
    """A file of no known format named on the command line: refused, saying so, exit 1, nothing written."""
    notes = tmp_path / "notes.json"
    notes.write_text('{"hello": "world"}\n')
    result = CliRunner().invoke(main, ["ingest", "import", str(notes), "--no-progress"])
    assert result.exit_code == 1
    assert f"refused: {notes}: not a legacy result file or harness log of a known format" in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("Error: 1 file(s) not imported")
    assert not (workdir.raw / "benchmark_samples").exists()


def test_a_folder_with_nothing_recognised_exits_non_zero_and_says_what_it_saw(workdir, tmp_path):
    """A folder of files none of which is a known format: exit 1, an Error line with counts by extension and names."""
    folder = tmp_path / "logs"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "run.log", "config.yaml"):
        (folder / name).write_text("nothing to see\n")
    result = CliRunner().invoke(main, ["ingest", "import", str(folder), "--no-progress"])
    assert result.exit_code == 1
    last = result.output.rstrip().splitlines()[-1]
    assert last.startswith(f"Error: nothing recognised in {folder}: 4 file(s) (2 .txt, 1 .log, 1 .yaml)")
    assert "a.txt" in last and "Traceback" not in result.output


def test_an_empty_folder_is_nothing_recognised(workdir, tmp_path):
    """An empty folder (an lm-eval run that wrote nothing, say) is not a silent success."""
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["ingest", "import", str(tmp_path / "empty"), "--no-progress"])
    assert result.exit_code == 1 and "no files in it" in result.output


def test_an_lm_eval_samples_file_named_alone_points_to_its_results(workdir):
    """A samples_*.jsonl named without its results file: refused with the file to import instead."""
    [samples] = (LM_EVAL / "meta-llama__Llama-3.1-8B-Instruct").glob("samples_arith_gen_*.jsonl")
    result = CliRunner().invoke(main, ["ingest", "import", str(samples), "--no-progress"])
    assert result.exit_code == 1 and "read with " in result.output and "results_" in result.output


@pytest.mark.parametrize(
    ("given", "model", "known"),
    [
        ("openai/gpt-4o", "openai/gpt-4o", True),  # inspect's provider is the registry's org
        ("hf/meta-llama/Llama-3.1-8B-Instruct", "meta-llama/llama-3.1-8b-instruct", True),
        ("vllm/meta-llama/Llama-3.1-8B-Instruct", "meta-llama/llama-3.1-8b-instruct", True),
        ("pretrained=meta-llama/Llama-3.1-8B-Instruct,dtype=bfloat16", "meta-llama/llama-3.1-8b-instruct", True),
        ("mockllm/gpt-4o-mini", "openai/gpt-4o-mini", True),  # by alias, after the provider
        ("openai-api/deepseek/deepseek-r1", "deepseek/deepseek-r1", True),
        ("Claude Opus 4.6", "anthropic/claude-opus-4.6", True),  # a display name
        ("pretrained=meta-llama/Llama-3-8B", "meta-llama/Llama-3-8B", False),
        ("hf/meta-llama/Llama-3-8B", "meta-llama/Llama-3-8B", False),  # the same unknown model as above
        ("anthropic/claude-x-preview", "anthropic/claude-x-preview", False),
        ("simple/model1", "simple/model1", False),
    ],
)
def test_model_names_normalised_through_the_registry(given, model, known):
    """Harness model strings resolve to registry ids; unknown ones keep an org/name form shared across harnesses."""
    assert normalise(given) == normalise(given).__class__(model, given, known)


# -- Every Eval Ever --------------------------------------------------------------------------------
def test_eee_files_from_its_own_converter(workdir):
    """EEE files that every_eval_ever's lm-eval converter wrote (fixtures/harness/eee) give the lm-eval run's
    scores, standard errors and instances."""
    import json

    summary = _import(workdir, FIXTURES / "eee")
    assert {r.source for r in summary.harness} == {"eee"} and summary.reconciles
    assert {r.model for r in summary.harness} == {ID_A}
    [results_file] = (LM_EVAL / "meta-llama__Llama-3.1-8B-Instruct").glob("results_*.json")
    report = json.loads(results_file.read_text())["results"]["arc_easy_mini"]
    scores = {r["metric"]: r for r in _rows(workdir, "benchmark_scores", "task = 'arc_easy_mini'")}
    assert (
        scores["accuracy"]["value"] == report["acc,none"] and scores["accuracy"]["stderr"] == report["acc_stderr,none"]
    )
    assert scores["accuracy"]["n_samples"] == 12
    samples = _rows(workdir, "benchmark_samples", "task = 'arc_easy_mini' and metric = 'accuracy'")
    assert len(samples) == 12 and sum(r["value"] for r in samples) == report["acc,none"] * 12
    assert samples[0]["input"].startswith("Question: What is")


def test_large_json_log_is_streamed(workdir, inspect_logs, monkeypatch):
    """An inspect .json log above the in-memory limit is streamed sample by sample, with the same rows."""
    from evalhouse.ingest.harness import inspect_log

    _import(workdir, inspect_logs["arith-b"])
    whole = sorted(
        (r["sample_id"], r["epoch"], r["scorer"], r["value"], r["output"]) for r in _rows(workdir, "benchmark_samples")
    )
    shutil.rmtree(workdir.raw)
    monkeypatch.setattr(inspect_log, "JSON_IN_MEMORY", 1024)
    summary = _import(workdir, inspect_logs["arith-b"])
    streamed = sorted(
        (r["sample_id"], r["epoch"], r["scorer"], r["value"], r["output"]) for r in _rows(workdir, "benchmark_samples")
    )
    assert streamed == whole and len(whole) == 24 and summary.harness[0].counts.score_rows == 2


def test_json_summary_counts_harness_records(workdir, inspect_logs):
    """`--json` reports the harness files by source and their records, reconciled."""
    import json

    result = CliRunner().invoke(main, ["ingest", "import", str(inspect_logs["arith-bad"]), "--no-progress", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["harness_files_by_source"] == {"inspect": 1}
    assert (data["harness_records_read"], data["harness_records_loaded"], data["harness_records_quarantined"]) == (
        12,
        11,
        1,
    )
    assert data["reconciles"] is True
