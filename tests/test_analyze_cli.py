"""`evalhouse analyze …` on a real built warehouse: outputs, agreement with the marts, clear errors."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest
from click.testing import CliRunner

from evalhouse.cli import main

from .conftest import REPO
from .project import paths_in, selected

pytestmark = pytest.mark.slow
SEED_TABLE = str(REPO / "examples" / "hubris_models.csv")


@pytest.fixture
def on_small(small_warehouse, monkeypatch):
    monkeypatch.setenv("EVALHOUSE_DATA", str(small_warehouse.data))
    monkeypatch.setenv("EVALHOUSE_WAREHOUSE", str(small_warehouse.warehouse))
    return small_warehouse


@pytest.fixture(scope="module")
def with_metrics(small_warehouse, tmp_path_factory):
    """The small warehouse's data plus the seed's 31-model metrics, built into a warehouse of its own."""
    from evalhouse.build import build

    root = tmp_path_factory.mktemp("metrics")
    p = paths_in(root)
    shutil.copytree(small_warehouse.data / "raw", p.raw)
    with selected(p):
        assert CliRunner().invoke(main, ["ingest", "metrics", SEED_TABLE]).exit_code == 0
        build(p)
    return p


def test_code_vs_nl_writes_json_latex_figures_and_agrees_with_the_mart(on_small, tmp_path):
    """The command reads marts.acc_model_arm_instance: its accuracies are acc_model_arm_kind's and its paired
    Δ is the mean per-instance difference computed in SQL from the instance mart."""
    out = tmp_path / "c.json"
    result = CliRunner().invoke(
        main,
        [
            "analyze",
            "code-vs-nl",
            "--n-boot",
            "200",
            "--json",
            str(out),
            "--latex",
            str(tmp_path / "c.tex"),
            "--figures",
            str(tmp_path / "fig"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "VERDICT: AMBIGUOUS — sample size not met" in result.output
    assert "Unit of every test and interval: the problem instance" in result.output
    data = json.loads(out.read_text())
    con = duckdb.connect(str(on_small.warehouse), read_only=True)
    mart = {
        (m, k): (n, d)
        for m, k, n, d in con.execute("""
            select t.model, t.kind, count(*), avg(t.accuracy - c.accuracy)
            from marts.acc_model_arm_instance as t
            join marts.acc_model_arm_instance as c using (model, problem_id)
            where t.arm = 'code' and c.arm = 'nl'
            group by all
        """).fetchall()
    }
    ours = {
        (r["model"], r["kind"]): (r["n_instances"], r["delta"])
        for r in data["delta"]
        if r["kind"] != "all" and r["model"] != "All models"
    }
    assert set(ours) == set(mart)
    for key, (n, d) in mart.items():
        assert ours[key][0] == n and ours[key][1] == pytest.approx(d)
    acc = {
        (m, a, k): x
        for m, a, k, x in con.execute("select model, arm, kind, accuracy from marts.acc_model_arm_kind").fetchall()
    }
    assert {
        (r["model"], r["arm"], r["kind"]): r["accuracy"] for r in data["accuracy"] if r["model"] != "All models"
    } == pytest.approx(acc)
    assert (
        len(data["paired"]) == 3 and (tmp_path / "c.tex").read_text().count(r"\begin{table}") == 6
    )  # arms, GLMM, paired, two ANOVAs, verdict
    assert len(list((tmp_path / "fig").glob("*.png"))) == 4


def test_code_vs_nl_user_mistakes(on_small):
    """An arm that has no responses, a filter that leaves nothing or names no column is one Error line."""
    result = CliRunner().invoke(main, ["analyze", "code-vs-nl", "--treatment", "simulate"])
    assert result.exit_code == 1 and result.output.startswith("Error: no responses in arm 'simulate'")
    result = CliRunner().invoke(main, ["analyze", "code-vs-nl", "--where", "kind = 'no such kind'"])
    assert result.exit_code == 1 and "has no answered responses where kind = 'no such kind'" in result.output
    result = CliRunner().invoke(main, ["analyze", "code-vs-nl", "--where", "seed = 0"])  # no seed: instances
    assert result.exit_code == 1 and result.output.startswith("Error: bad --where") and "Traceback" not in result.output


def test_code_vs_nl_without_warehouse(workdir):
    result = CliRunner().invoke(main, ["analyze", "code-vs-nl"])
    assert result.exit_code == 1 and "no warehouse at" in result.output


def test_lab_effects_from_the_warehouse_resolves_display_names(with_metrics, monkeypatch, tmp_path):
    """--exclude-model takes the paper's names (Phi-4) for registered ids; numbers match lme4."""
    monkeypatch.setenv("EVALHOUSE_DATA", str(with_metrics.data))
    monkeypatch.setenv("EVALHOUSE_WAREHOUSE", str(with_metrics.warehouse))
    out = tmp_path / "le.json"
    result = CliRunner().invoke(
        main,
        [
            "analyze",
            "lab-effects",
            "--metric",
            "hubris",
            "--exclude-model",
            "Phi-4",
            "--exclude-category",
            "reasoning",
            "--correlate",
            "d1,d2",
            "--json",
            str(out),
            "--latex",
            str(tmp_path / "le.tex"),
            "--figure",
            str(tmp_path / "forest"),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    fits = data["mixed_effects"]
    assert fits["all"]["effect"] == pytest.approx(-0.4206243, rel=1e-6)
    assert fits["no_phi_4"]["models_excluded"] == ["microsoft/phi-4"]
    assert fits["no_phi_4"]["effect"] == pytest.approx(-0.44264787, rel=1e-6)
    assert fits["no_reasoning"]["n_models"] == 29
    assert data["correlations"][0]["n"] == 30
    assert (tmp_path / "forest.png").exists() and (tmp_path / "forest.pdf").exists()
    assert r"\subsection*{Mixed-Effects Model Robustness Check}" in (tmp_path / "le.tex").read_text()


def test_lab_effects_user_mistakes(with_metrics, monkeypatch):
    """An unknown metric or model is one Error line that names what exists."""
    monkeypatch.setenv("EVALHOUSE_WAREHOUSE", str(with_metrics.warehouse))
    result = CliRunner().invoke(main, ["analyze", "lab-effects", "--metric", "humility"])
    assert result.exit_code == 1 and "Error: no values for metric 'humility' (metrics: d1, d2, hubris)" in result.output
    result = CliRunner().invoke(main, ["analyze", "lab-effects", "--metric", "hubris", "--exclude-model", "GPT-9"])
    assert result.exit_code == 1 and "--exclude-model 'GPT-9': no such model" in result.output
    result = CliRunner().invoke(main, ["analyze", "lab-effects", "--metric", "hubris", "--correlate", "d1"])
    assert result.exit_code == 2 and "give two metrics" in result.output


def test_lab_effects_from_a_wide_csv(tmp_path):
    """The seed's own table works as a file source, without a warehouse."""
    result = CliRunner().invoke(main, ["analyze", "lab-effects", "--from", SEED_TABLE, "--metric", "hubris", "--ml"])
    assert result.exit_code == 0, result.output
    assert "[ML]" in result.output and "singular" in result.output  # lme4: singular under ML (global maximum)


def test_analyze_all_refreshes_every_output(with_metrics, monkeypatch, tmp_path):
    """Code vs NL and every metric's lab effects, as JSON, text, LaTeX and figures, in one folder; what
    cannot be analysed is listed with the reason."""
    monkeypatch.setenv("EVALHOUSE_WAREHOUSE", str(with_metrics.warehouse))
    result = CliRunner().invoke(main, ["analyze", "all", "--out", str(tmp_path), "--n-boot", "200"])
    assert result.exit_code == 0, result.output
    names = {p.name for p in tmp_path.rglob("*") if p.is_file()}
    for stem in ("code_vs_nl", "lab_effects_hubris", "lab_effects_d2"):
        assert {f"{stem}.json", f"{stem}.txt", f"{stem}.tex"} <= names
    assert {"accuracy_by_arm.png", "code_nl_heatmap.pdf", "forest_hubris.png"} <= names
    # d1 is 1 − is_flagship exactly on the seed's table: nothing to estimate, said rather than fitted
    assert "skipped lab_effects:d1: d1 does not vary within the levels of the predictor" in result.output
    assert "lab_effects_d1.json" not in names


def test_lab_effects_with_a_binomial_outcome(workdir, tmp_path, monkeypatch):
    """--family binomial explains correctness on the instance mart with lab, model and instance random
    intercepts: the effect is the GLMM's is_flagship log-odds, fitted as `lmm.fit` fits the same formula."""
    import numpy as np

    from evalhouse.analysis.lmm import fit
    from evalhouse.build import build

    from .warehouse_data import response, write_problems, write_responses

    rng = np.random.default_rng(5)
    models = {
        "synthetic/atlas-large": 1.2,
        "synthetic/atlas-mini": 0.2,
        "synthetic/boreal-pro": 1.0,
        "synthetic/boreal-lite": 0.0,
    }
    golds = {f"p{i}": "42" for i in range(40)}
    write_problems(workdir, golds)
    rows = [
        response(
            f"{m}-{p}-{arm}",
            p,
            arm=arm,
            model=m,
            parsed_answer="42" if rng.random() < 1 / (1 + np.exp(-skill)) else "7",
        )
        for m, skill in models.items()
        for p in golds
        for arm in ("nl", "code")
    ]
    write_responses(workdir, rows)
    build(workdir)
    monkeypatch.setenv("EVALHOUSE_DATA", str(workdir.data))
    monkeypatch.setenv("EVALHOUSE_WAREHOUSE", str(workdir.warehouse))

    out = tmp_path / "lab.json"
    args = ["analyze", "lab-effects", "--metric", "accuracy", "--family", "binomial", "--where", "arm = 'nl'"]
    result = CliRunner().invoke(main, [*args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "(1|lab) + (1|model) + (1|problem_id)" in result.output and "[Laplace]" in result.output
    data = json.loads(out.read_text())
    assert data["formula"] == "cbind(accuracy, trials - accuracy) ~ is_flagship + (1|lab) + (1|model) + (1|problem_id)"
    primary = data["mixed_effects"]["all"]
    con = duckdb.connect(str(workdir.warehouse), read_only=True)
    frame = con.execute(
        "select i.*, m.is_flagship from marts.acc_model_arm_instance as i join marts.models as m using (model, lab)"
        " where arm = 'nl'"
    ).df()
    con.close()
    frame = frame.assign(accuracy=frame.n_correct / frame.n, trials=1.0)
    direct = fit(data["formula"], frame, family="binomial", group="lab")
    assert primary["effect"] == pytest.approx(direct.fixed.loc["is_flagship", "estimate"], rel=1e-9)
    assert primary["n_models"] == 4 and data["naive"]["level_1_n"] == 2
    # a binomial outcome takes no correlations, and the gaussian analysis no --where
    refused = CliRunner().invoke(main, [*args, "--correlate", "a,b"])
    assert refused.exit_code == 1 and refused.output.startswith("Error: --family binomial explains correctness")
