"""The mixed model at the edges: the global maximum, degenerate data as clear errors, the boundary LRT."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from evalhouse.analysis.lmm import design, formula
from evalhouse.analysis.lmm.lmm import LinearMixedModel
from evalhouse.analysis.mixedlm import fit_mixedlm
from evalhouse.cli import main

from .conftest import REPO

SEED_TABLE = REPO / "examples" / "hubris_models.csv"


def _random_dataset(rng) -> pd.DataFrame:
    groups = int(rng.integers(3, 9))
    sizes = rng.integers(1, 7, groups)
    g = np.repeat(np.arange(groups), sizes)
    x = rng.normal(size=len(g))
    group_sd = rng.choice([0.0, 0.05, 0.5, 2.0])
    y = 1 + 0.5 * x + rng.normal(0, group_sd, groups)[g] + rng.normal(0, 1, len(g))
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{i}" for i in g]})


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
def test_always_finite_and_at_the_global_maximum(reml):
    """On 30 random unbalanced datasets (some with zero group variance) the likelihood is finite and no
    point of a dense independent grid over θ beats it."""
    rng = np.random.default_rng(11)
    grid = np.concatenate([[0.0], np.logspace(-4, 2, 600)])
    for _ in range(30):
        d = _random_dataset(rng)
        if d["g"].nunique() >= len(d) or d["g"].nunique() < 2:
            continue
        r = fit_mixedlm(d, "y ~ x", "g", reml=reml)
        assert math.isfinite(r.loglik) and r.converged and r.theta[0] >= 0
        model = LinearMixedModel(design.build(d, formula.parse("y ~ x + (1|g)"), "gaussian"), reml)
        best = -0.5 * min(model.deviance(np.array([t])) for t in grid) + model.loglik_shift()
        assert r.loglik >= best - 1e-9
        assert r.singular == (r.theta[0] < 1e-4)


def test_lrt_uses_the_boundary_mixture():
    """p = ½·P(χ²₁ > stat): half the naive χ²₁ p-value; 1 when the statistic is 0 (a singular fit)."""
    d = pd.read_csv(SEED_TABLE)
    r = fit_mixedlm(d, "hubris ~ is_flagship", "lab")
    stat = 2 * (r.loglik - r.lrt["loglik_without"])
    assert r.lrt["stat"] == pytest.approx(stat) and r.lrt["p_value"] == pytest.approx(0.5 * stats.chi2.sf(stat, 1))
    singular = fit_mixedlm(d, "hubris ~ is_flagship", "lab", reml=False)
    assert singular.singular and singular.lrt["stat"] == pytest.approx(0, abs=1e-9) and singular.lrt["p_value"] == 1.0


@pytest.mark.parametrize(
    "frame, formula, message",
    [
        (
            pd.DataFrame({"y": [1.0, 2, 3, 4], "x": [1.0, 2, 3, 4], "g": list("aabb")}),
            "y ~ x",
            "fit the response exactly",
        ),
        (pd.DataFrame({"y": [3.0] * 6, "g": list("aabbcc")}), "y ~ 1", "is constant"),
        (pd.DataFrame({"y": [1.0, 2, 3], "g": list("abc")}), "y ~ 1", "one observation"),
        (pd.DataFrame({"y": [1.0, 2, 3], "g": list("aaa")}), "y ~ 1", "at least 2 groups"),
        (pd.DataFrame({"y": [1.0, 1, 5, 5, 9, 9], "g": list("aabbcc")}), "y ~ 1", "within-group values are constant"),
        (pd.DataFrame({"y": [1.0, 2, 3, 4], "g": list("aabb")}), "y ~ nope", "cannot build"),
    ],
)
def test_degenerate_data_is_a_clear_error(frame, formula, message):
    """Data without a likelihood maximum raise a ValueError that says why, never an infinite likelihood."""
    with pytest.raises(ValueError, match=message):
        fit_mixedlm(frame, formula, "g")


def test_cli_ml_contract_keys(tmp_path):
    """--ml: method ML, reml_loglik null, AIC given; the JSON is strict (no NaN or Infinity)."""
    out = tmp_path / "m.json"
    result = CliRunner().invoke(
        main,
        [
            "analyze",
            "mixedlm",
            "--from",
            str(SEED_TABLE),
            "--formula",
            "hubris ~ is_flagship",
            "--group",
            "lab",
            "--ml",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert data["method"] == "ML" and data["reml_loglik"] is None and data["singular"] is True
    assert data["aic"] == pytest.approx(-2 * data["loglik"] + 8)
    assert data["fixed"]["is_flagship"]["df"] == pytest.approx(31, rel=1e-6)  # lmerTest: n under ML when singular
    assert "boundary (singular) fit" in result.output
