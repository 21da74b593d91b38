"""Harness logs in the built warehouse: marts.benchmark_scores and benchmark_instances beside evalhouse's own
results, paired comparisons on the same items, and the Every Eval Ever export checked by its own validator
and imported back into an empty warehouse."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner

from evalhouse.analysis.paired import mcnemar_instances
from evalhouse.build import build
from evalhouse.cli import main
from evalhouse.config import Paths
from evalhouse.ingest.importers import Options, import_paths

from .harness_logs import FIXTURES, ID_A, ID_B, MODEL_A, _knows, write_logs
from .project import REPO, paths_in, selected

pytestmark = pytest.mark.slow

LM_EVAL = FIXTURES / "lm_eval"
HELM_RUN = FIXTURES / "helm" / "runs" / "test" / "simple1:model=simple_model1,data_augmentation=robustness"
COLUMNS = "model, task, variant, split, scorer, filter, perturbation, metric, value, stderr, n_samples, n_instances"


def validator() -> Path:
    """every-eval-ever's CLI in its own Python 3.12 venv (`make eee`; .ci/run makes it)."""
    path = Path(os.environ.get("EVALHOUSE_EEE_VALIDATOR", REPO / ".venv-eee" / "bin" / "every_eval_ever"))
    assert path.exists(), f"{path} is missing: run `make eee` (every-eval-ever needs Python >= 3.12)"
    return path


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """evalhouse's own responses (loopback endpoint), inspect logs of two models, lm-eval runs of the same two
    models on the same items, and a HELM run with perturbations: imported and built with a real dbt build."""
    from evalhouse.ingest.collector import RunConfig, collect
    from evalhouse.synthetic import ServerConfig, SyntheticServer

    root = tmp_path_factory.mktemp("harness_wh")
    logs = write_logs(root / "inspect")
    p = paths_in(root)
    with selected(p), SyntheticServer(ServerConfig(problems=p.problems)) as server:
        config = RunConfig(
            models=["synthetic/atlas-large", "synthetic/boreal-lite"],
            kinds=["add", "lcs"],
            digits=[2],
            n=4,
            seeds=[0, 1],
            arms=["nl", "sim", "code"],
            base_url=server.url,
            progress=False,
        )
        collect(config, p, api_key=None)
        inspect = [logs[k] for k in ("arc_easy_mini-a", "arc_easy_mini-b", "arith-a", "arith-b")]
        summary = import_paths(
            [
                *inspect,
                LM_EVAL / "meta-llama__Llama-3.1-8B-Instruct",
                LM_EVAL / "mistralai__Mistral-7B-Instruct",
                HELM_RUN,
            ],
            p,
            Options(progress=False),
        )
        assert summary.reconciles and len(summary.harness) == 7
        build(p)
        yield p, logs


def _q(p: Paths, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(p.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_every_reported_score_is_in_the_mart(warehouse):
    """marts.benchmark_scores holds each score the harnesses reported, with their values and stderrs."""
    from inspect_ai.log import read_eval_log

    p, logs = warehouse
    log = read_eval_log(str(logs["arith-a"]))
    for score in log.results.scores:
        [(value, stderr, n, n_instances)] = _q(
            p,
            "select value, stderr, n_samples, n_instances from marts.benchmark_scores "
            "where source = 'inspect' and run_id = ? and scorer = ? and metric = 'accuracy'",
            [log.eval.eval_id, score.name],
        )
        assert (value, stderr, n, n_instances) == (
            score.metrics["accuracy"].value,
            score.metrics["stderr"].value,
            6,
            12,
        )
    [results_file] = (LM_EVAL / "mistralai__Mistral-7B-Instruct").glob("results_*.json")
    report = json.loads(results_file.read_text())["results"]
    rows = _q(
        p,
        "select task, metric, filter, value, stderr, n_instances from marts.benchmark_scores where source = 'lm_eval' and model = ?",
        [ID_B],
    )
    assert len(rows) == 4
    for task, metric, filter_, value, stderr, n_instances in rows:
        assert value == report[task][f"{metric},{filter_}"] and stderr == report[task][f"{metric}_stderr,{filter_}"]
        assert n_instances == {"arc_easy_mini": 12, "arith_gen": 6}[task]
    perturbations = {
        r[0] for r in _q(p, "select distinct perturbation from marts.benchmark_scores where source = 'helm'")
    }
    assert {None, "mild_mix/perturbed", "robustness/worst"} <= perturbations


def test_evalhouse_own_results_sit_beside_them(warehouse):
    """Each model × kind × arm of marts.acc_model_arm_kind is a benchmark score (task = kind, variant = arm),
    with a standard error clustered on the problem, from its instances."""
    p, _ = warehouse
    acc = _q(p, "select model, kind, arm, accuracy, n from marts.acc_model_arm_kind order by all")
    own = _q(
        p,
        "select model, task, variant, value, n_samples from marts.benchmark_scores where source = 'evalhouse' order by all",
    )
    assert own == acc and len(own) == 2 * 2 * 3
    for model, kind, arm, accuracy, n in acc:
        instances = _q(
            p,
            "select instance_id, score, n_replicates from marts.benchmark_instances "
            "where source = 'evalhouse' and model = ? and task = ? and variant = ?",
            [model, kind, arm],
        )
        assert sum(m for _, _, m in instances) == n and len({i for i, _, _ in instances}) == len(instances)
        k = np.array([s * m for _, s, m in instances])
        m = np.array([m for _, _, m in instances])
        expected = np.sqrt(len(m) / (len(m) - 1) * np.sum((k - accuracy * m) ** 2) / m.sum() ** 2)
        [(stderr,)] = _q(
            p,
            "select stderr from marts.benchmark_scores where source = 'evalhouse' and model = ? and task = ? and variant = ?",
            [model, kind, arm],
        )
        assert stderr == pytest.approx(expected, rel=1e-12, abs=1e-15)


def _outcomes(p: Paths, source: str, model: str, metric: str) -> dict[str, float]:
    return dict(
        _q(
            p,
            "select instance_id, score from marts.benchmark_instances "
            "where source = ? and model = ? and task = 'arc_easy_mini' and metric = ? and epoch = 1",
            [source, model, metric],
        )
    )


def test_two_models_paired_on_the_same_items(warehouse):
    """benchmark_instances pairs model A and model B on the same arc_easy_mini items (0/1 each), so an exact
    McNemar test runs on them, within a harness and across harnesses."""
    p, _ = warehouse
    a, b = _outcomes(p, "inspect", ID_A, "accuracy"), _outcomes(p, "inspect", ID_B, "accuracy")
    items = [json.loads(x) for x in (FIXTURES / "lm_eval_tasks" / "arc_easy_mini.jsonl").read_text().splitlines()]
    expected = {str(i): float(_knows(MODEL_A, it["question"][len("What is ") : -1])) for i, it in enumerate(items)}
    assert a == expected  # the mock model's answers, as inspect scored them
    assert set(a) == set(b) == {str(i) for i in range(12)}
    ids = sorted(a)
    test = mcnemar_instances(np.array([a[i] for i in ids]), np.array([b[i] for i in ids]))
    assert test.test == "exact" and test.n_instances == 12
    assert test.treatment_better + test.control_better == sum(a[i] != b[i] for i in ids)
    # the same items scored by lm-eval (doc ids are the positions the inspect samples were given)
    lm = _outcomes(p, "lm_eval", ID_B, "acc")
    assert set(lm) == set(a) and set(lm.values()) <= {0.0, 1.0}
    assert mcnemar_instances(np.array([a[i] for i in ids]), np.array([lm[i] for i in ids])).n_instances == 12


def test_an_import_after_a_build_is_picked_up_incrementally(warehouse):
    """A harness log imported after a build appears in the marts at the next (incremental) build."""
    p, _ = warehouse
    with selected(p):
        import_paths([LM_EVAL / "cut"], p, Options(progress=False))
        result = build(p)
    assert "benchmark_samples changed" in result.reason
    [(n,)] = _q(p, "select count(*) from marts.benchmark_scores where model = 'Qwen/Qwen2.5-7B-Instruct'")
    assert n == 4


def test_export_validates_and_imports_back_to_the_same_scores(warehouse, tmp_path):
    """`evalhouse export eee` writes files every_eval_ever validate accepts (no error, no warning), and
    importing them into an empty warehouse gives back the same scores and instance counts."""
    p, _ = warehouse
    out = tmp_path / "export"
    with selected(p):
        result = CliRunner().invoke(main, ["export", "eee", "--out", str(out)])
    assert result.exit_code == 0, result.output
    files = sorted(out.rglob("*.json")) + sorted(out.rglob("*.jsonl"))
    assert len([f for f in files if f.suffix == ".json"]) == len(
        _q(p, "select distinct source, run_id, model from marts.benchmark_scores")
    )
    checked = subprocess.run(
        [str(validator()), "validate", "--format", "json", *map(str, files)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr[-2000:]
    reports = json.loads(checked.stdout)
    assert len(reports) == len(files) and all(r["valid"] for r in reports)

    back = paths_in(tmp_path / "back")
    with selected(back):
        summary = import_paths([out], back, Options(progress=False))
        assert summary.reconciles and {h.source for h in summary.harness} == {"eee"}
        build(back)
    before = set(_q(p, f"select {COLUMNS} from marts.benchmark_scores"))
    after = set(_q(back, f"select {COLUMNS} from marts.benchmark_scores"))
    assert after == before
    instances = "select model, task, variant, split, scorer, filter, perturbation, metric, instance_id, epoch, score from marts.benchmark_instances"
    assert set(_q(back, instances)) == set(_q(p, instances))


def test_export_filters_by_model_and_task(warehouse, tmp_path):
    """--model (an alias resolves) and --task narrow the export to matching runs."""
    p, _ = warehouse
    with selected(p):
        result = CliRunner().invoke(
            main, ["export", "eee", "--out", str(tmp_path), "--model", "Llama 3.1 8B", "--task", "arc_easy_mini"]
        )
    assert result.exit_code == 0, result.output
    aggregates = [json.loads(f.read_text()) for f in tmp_path.rglob("*.json")]
    assert len(aggregates) == 2  # the inspect run and the lm-eval run of model A
    assert {a["model_info"]["id"] for a in aggregates} == {ID_A}
    assert {r["evaluation_name"] for a in aggregates for r in a["evaluation_results"]} == {"arc_easy_mini"}


def test_export_without_a_warehouse_is_one_error_line(tmp_path, monkeypatch):
    """No warehouse built yet: one Error line, exit 1."""
    monkeypatch.setenv("EVALHOUSE_WAREHOUSE", str(tmp_path / "none.duckdb"))
    result = CliRunner().invoke(main, ["export", "eee", "--out", str(tmp_path / "out")])
    assert (
        result.exit_code == 1
        and result.output.startswith("Error: no warehouse at")
        and "Traceback" not in result.output
    )


@pytest.mark.parametrize("index", range(2))
def test_readme_comparison_queries_run(warehouse, index):
    """The README's cross-harness SQL ("Bring your harness's logs") runs on the built warehouse and returns rows."""
    import re

    text = (REPO / "README.md").read_text()
    start = text.index("## Bring your harness's logs\n")
    section = text[start : text.index("\n## ", start + 1)]
    queries = [
        q for block in re.findall(r"```sql\n(.*?)```", section, re.DOTALL) for q in block.split(";\n") if q.strip()
    ]
    p, _ = warehouse
    rows = _q(p, queries[index])
    assert rows, queries[index]
    if index == 1:  # both models answered every arc_easy_mini item, so the four cells add up to twelve
        [(task, *cells)] = rows
        assert task == "arc_easy_mini" and sum(cells) == 12
