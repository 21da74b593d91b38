"""lme4 formula syntax: what is parsed, how terms are named, and what is refused with one clear line."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from evalhouse.analysis.lmm import design, fit, formula
from evalhouse.cli import main

from .conftest import REPO

SLEEP = REPO / "tests" / "reference" / "lme4" / "sleepstudy.csv"


def _random(text: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(t.expr, t.group) for t in formula.parse(text).random]


@pytest.mark.parametrize(
    "text, fixed, random",
    [
        ("y ~ x + (1|g)", "x", [("1", ("g",))]),
        ("y ~ x + (x|g)", "x", [("x", ("g",))]),
        ("y ~ x + (1 + x|g)", "x", [("1 + x", ("g",))]),
        ("y ~ x + (0 + x|g)", "x", [("0 + x", ("g",))]),
        ("y ~ (1|g) + (1|h)", "1", [("1", ("g",)), ("1", ("h",))]),
        ("y ~ 1 + (1|g/h)", "1", [("1", ("g",)), ("1", ("h", "g"))]),
        ("y ~ x + (1|g) + (0 + x|g)", "x", [("1", ("g",)), ("0 + x", ("g",))]),
        ("y ~ x + (1|g:h)", "x", [("1", ("g", "h"))]),
        ("y ~ x - 1 + (1|g)", "x - 1", [("1", ("g",))]),
        ("y ~ a*b + I(x ** 2) + (1|g)", "a * b + I(x ** 2)", [("1", ("g",))]),
    ],
)
def test_random_terms_are_parsed_and_never_reach_patsy(text, fixed, random):
    """Each random term becomes (left side, grouping factors); the fixed part keeps no `|`."""
    parsed = formula.parse(text)
    assert parsed.fixed == fixed and "|" not in parsed.fixed
    assert _random(text) == random


def test_cbind_counts_on_the_left():
    """cbind(k, n - k) and cbind(k, fails) name binomial counts."""
    a = formula.parse("cbind(k, n - k) ~ arm + (1|model)").response
    b = formula.parse("cbind(k, fails) ~ arm + (1|model)").response
    assert (a.successes, a.trials, a.failures) == ("k", "n", None)
    assert (b.successes, b.failures) == ("k", "fails")


@pytest.mark.parametrize(
    "text, message",
    [
        ("y ~ x + (x||g)", "double bar"),
        ("y ~ x + (x*z|g)", "interactions and functions"),
        ("y ~ x + (log(x)|g)", "only columns"),
        ("y ~ x + x|g", "must be in parentheses"),
        ("y ~ x + (1|g*h)", "joined by `:` or `/`"),
        ("y ~ x + (1|g", "unbalanced"),
        ("y + z ~ x + (1|g)", "must be one column"),
        ("cbind(k, n - j) ~ x + (1|g)", "cbind(successes, failures)"),
        ("y x (1|g)", "needs a response and `~`"),
        ("y ~ x + (2|g)", "is not a column, 1 or 0"),
    ],
)
def test_formulas_lme4_would_fit_differently_are_refused(text, message):
    """A formula we cannot fit exactly as written is a ValueError saying why."""
    with pytest.raises(ValueError, match=re.escape(message)):
        formula.parse(text)


def test_issue_sleepstudy_slope_is_the_model_lmer_fits():
    """`Reaction ~ Days + (Days|Subject)` fits lmer's model (251.41, SE 6.82), not `Days | Subject` as a
    fixed term (the old −7.99, SE 140)."""
    r = fit("Reaction ~ Days + (Days|Subject)", pd.read_csv(SLEEP))
    assert r.fixed.loc["(Intercept)", "estimate"] == pytest.approx(251.405, abs=1e-3)
    assert r.fixed.loc["(Intercept)", "se"] == pytest.approx(6.8246, abs=1e-4)
    assert {c.get("term2") for c in r.random} >= {"Days"}


def test_design_names_terms_as_r_model_matrix():
    """(Intercept), numeric columns as written, factor levels pasted (treatment contrasts, C-locale order),
    logicals as xTRUE, main effects before interactions."""
    d = pd.DataFrame(
        {
            "y": [1.0, 2, 3, 4, 5, 6, 7, 8],
            "arm": ["nl", "code", "Sim", "nl", "code", "Sim", "nl", "code"],
            "x": [0.1, 0.5, 0.2, 0.7, 0.9, 0.3, 0.4, 0.8],
            "flag": [True, False, True, False, True, False, True, False],
            "g": list("aabbccdd"),
        }
    )
    des = design.build(d, formula.parse("y ~ arm:x + flag + arm + (1|g)"), "gaussian")
    assert des.names == ["(Intercept)", "flagTRUE", "armcode", "armnl", "armSim:x", "armcode:x", "armnl:x"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--formula", "Reaction ~ Days + (Days||Subject)"], "double bar"),
        (["--formula", "Reaction ~ Days + (Days|Subj)"], "column 'Subj'"),
        (["--formula", "Reaction ~ Days"], "has no random term"),
        (["--formula", "Reaction ~ Days + (1|Subject)", "--group", "Days"], "does not match the random terms"),
        (["--formula", "Reaction ~ Days + (1|Subject)", "--family", "binomial"], "must be 0/1"),
        (["--formula", "Reaction ~ Days + (1|Subject)", "--df", "kenward-roger", "--ml"], "needs a REML fit"),
        (["--formula", "Reaction ~ Days + (1|Subject)", "--ml", "--family", "binomial"], "--ml is for gaussian"),
        (["--formula", "cbind(Reaction, Days) ~ 1 + (1|Subject)"], "need --family binomial"),
        (["--formula", "Reaction ~ Nope + (1|Subject)"], "cannot build"),
    ],
)
def test_every_user_mistake_is_one_error_line(args, message):
    """Each mistake exits 1 with a single `Error:` line and no traceback."""
    result = CliRunner().invoke(main, ["analyze", "mixedlm", "--from", str(SLEEP), *args])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and message in lines[0], result.output


def test_group_option_with_a_consistent_formula_names_the_legacy_group():
    """--group naming one of the formula's grouping factors picks what n_groups and group_var describe."""
    d = pd.read_csv(REPO / "tests" / "reference" / "lme4" / "penicillin.csv")
    r = fit("diameter ~ 1 + (1|plate) + (1|sample)", d, group="sample")
    assert r.n_groups == 6 and r.group_var == pytest.approx(r.variance("sample"))
    assert fit("diameter ~ 1 + (1|plate) + (1|sample)", d).n_groups == 24  # default: lme4's first term
    assert np.isfinite(r.icc)
