"""`evalhouse analyze mixedlm` end to end: lme4 formulas from a CSV to the contract's JSON."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from click.testing import CliRunner

from evalhouse.cli import main

from .conftest import REPO

REF = REPO / "tests" / "reference" / "lme4"


def _run(tmp_path, source, *args):
    out = tmp_path / "out.json"
    result = CliRunner().invoke(main, ["analyze", "mixedlm", "--from", str(source), *args, "--json", str(out)])
    assert result.exit_code == 0, result.output
    return result.output, json.loads(out.read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))


def test_binomial_glmm_json(tmp_path):
    """--family binomial with cbind counts: Laplace, Wald z (df null for ∞), no Residual, glmer's figures."""
    cb = pd.read_csv(REF / "cbpp.csv")
    cb["period"] = "p" + cb["period"].astype(str)  # a factor, as in R
    src = tmp_path / "cbpp.csv"
    cb.to_csv(src, index=False)
    text, data = _run(
        tmp_path, src, "--family", "binomial", "--formula", "cbind(incidence, size - incidence) ~ period + (1|herd)"
    )
    assert data["family"] == "binomial" and data["method"] == "Laplace" and data["nobs"] == 56
    assert set(data["fixed"]) == {"(Intercept)", "periodp2", "periodp3", "periodp4"}
    assert data["fixed"]["(Intercept)"]["estimate"] == pytest.approx(-1.39853, abs=2e-5)
    assert data["loglik"] == pytest.approx(-92.026282, abs=1e-5) and data["deviance"] == pytest.approx(
        -2 * data["loglik"]
    )
    assert [r["group"] for r in data["random"]] == ["herd"] and data["resid_var"] is None
    assert data["icc"] == pytest.approx(data["group_var"] / (data["group_var"] + math.pi**2 / 3))
    assert "z value" in text and "Laplace" in text


def test_crossed_lmm_with_kenward_roger(tmp_path):
    """Crossed factors with --df kenward-roger: pbkrtest's df in the table; n_groups follows lme4's first term."""
    text, data = _run(
        tmp_path, REF / "penicillin.csv", "--formula", "diameter ~ 1 + (1|plate) + (1|sample)", "--df", "kenward-roger"
    )
    assert data["df_method"] == "kenward-roger" and data["fixed"]["(Intercept)"]["df"] == pytest.approx(
        5.4858, rel=1e-3
    )
    assert data["groups"] == {"plate": 24, "sample": 6} and data["n_groups"] == 24 and data["group"] == "plate"
    assert {r["group"] for r in data["random"]} == {"plate", "sample", "Residual"}
    assert "Kenward-Roger" in text
