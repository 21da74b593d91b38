"""The mixed model against lme4 on 8 datasets × REML/ML (tests/reference/lme4/, made by lme4_reference.R).

Four of the 16 fits are singular in lme4 (Dyestuff2 under both methods; the seed's table without Phi-4,
and d2 ~ is_flagship, under ML); R is not needed to run these tests.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from evalhouse.analysis.mixedlm import fit_mixedlm

from .conftest import REPO

REF = REPO / "tests" / "reference" / "lme4"
HUBRIS = REPO / "examples" / "hubris_models.csv"

DATASETS = {  # name: (file, row filter, formula, group) as in lme4_reference.R
    "hubris_full": (HUBRIS, None, "hubris ~ is_flagship", "lab"),
    "hubris_no_phi4": (HUBRIS, lambda d: d[d.model != "Phi-4"], "hubris ~ is_flagship", "lab"),
    "hubris_no_reasoning": (
        HUBRIS,
        lambda d: d[~d.model.isin(["o3-mini", "DeepSeek R1"])],
        "hubris ~ is_flagship",
        "lab",
    ),
    "hubris_d2": (HUBRIS, None, "d2 ~ is_flagship", "lab"),
    "sleepstudy": (REF / "sleepstudy.csv", None, "Reaction ~ Days", "Subject"),
    "dyestuff": (REF / "dyestuff.csv", None, "Yield ~ 1", "Batch"),
    "dyestuff2": (REF / "dyestuff2.csv", None, "Yield ~ 1", "Batch"),
    "cake": (REF / "cake.csv", None, "angle ~ recipe + temp", "replicate"),
}
SIG = 1e-4  # 4 significant digits


def _reference() -> dict:
    ref = pd.read_csv(REF / "lme4_reference.csv", keep_default_na=False)
    out: dict = {}
    for row in ref.itertuples():
        out.setdefault((row.dataset, row.method), {}).setdefault(row.quantity, {})[row.term] = float(row.value)
    return out


REFERENCE = _reference()
CASES = sorted(REFERENCE)


def _fit(dataset: str, method: str):
    path, keep, formula, group = DATASETS[dataset]
    data = pd.read_csv(path)
    if keep is not None:
        data = keep(data)
    return fit_mixedlm(data, formula, group, reml=method == "REML", df="z")


def _agree(ours: float, theirs: float, zero_scale: float) -> bool:
    """4 significant digits; a value lme4 puts at zero (singular fits) must be zero to 1e-6 of its scale."""
    if abs(theirs) < 1e-9 * max(zero_scale, 1.0):
        return abs(ours) <= 1e-6 * zero_scale
    return math.isclose(ours, theirs, rel_tol=SIG)


def test_reference_covers_three_datasets_and_a_singular_fit():
    """The committed reference has ≥3 datasets, both methods, and singular fits."""
    assert len({d for d, _ in CASES}) >= 3 and {m for _, m in CASES} == {"REML", "ML"}
    assert sum(REFERENCE[c]["singular"][""] == 1 for c in CASES) >= 2


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_fixed_effects_and_standard_errors_match_lme4(case):
    """Estimates, σ²(X′V⁻¹X)⁻¹ standard errors and Wald 95% intervals agree to 4 significant digits,
    under R's term names (recipeB)."""
    r = _fit(*case)
    ref = REFERENCE[case]
    assert list(ref["estimate"]) == list(r.fe_params)
    ci = r.conf_int()  # --df z: normal quantiles, as confint(m, method = "Wald")
    for term in ref["estimate"]:
        scale = abs(ref["se"][term])
        assert _agree(r.fe_params[term], ref["estimate"][term], scale), (term, r.fe_params[term])
        assert _agree(r.bse[term], ref["se"][term], scale), (term, r.bse[term])
        lo, hi = ci.loc[term]
        assert _agree(lo, ref["ci_low"][term], scale) and _agree(hi, ref["ci_high"][term], scale)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_variance_components_and_likelihood_match_lme4(case):
    """Group and residual variances, ICC, θ, the (RE)ML log-likelihood, the LRT and isSingular agree."""
    r = _fit(*case)
    ref = {q: v[""] for q, v in REFERENCE[case].items() if "" in v}
    scale = ref["resid_var"]
    assert r.n == ref["n"] and r.n_groups == ref["n_groups"]
    assert _agree(r.group_var, ref["group_var"], scale)
    assert _agree(r.resid_var, ref["resid_var"], scale)
    assert _agree(r.icc, ref["icc"], 1.0)
    assert _agree(r.theta[0], ref["theta"], 1.0)
    assert math.isclose(r.loglik, ref["loglik"], rel_tol=SIG, abs_tol=1e-6)
    assert math.isclose(r.lrt["loglik_without"], ref["loglik_without"], rel_tol=1e-8, abs_tol=1e-8)
    assert math.isclose(r.lrt["stat"], ref["lrt_stat"], rel_tol=SIG, abs_tol=1e-6)
    assert r.singular == bool(ref["singular"])
    assert r.converged and math.isfinite(r.loglik)
    assert (r.reml_loglik is None) == (case[1] == "ML")


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]}")
def test_conditional_modes_match_lme4_ranef(case):
    """The group intercepts' conditional modes agree with lme4's ranef()."""
    r = _fit(*case)
    ref = REFERENCE[case]["ranef"]
    scale = math.sqrt(REFERENCE[case]["resid_var"][""])
    modes = r.ranef[r.group]["(Intercept)"]
    assert set(modes.index) == set(ref)
    for group, value in ref.items():
        assert _agree(modes[group], value, scale), (group, modes[group], value)


def test_global_maximum_where_lmer_default_start_stops_short():
    """On the seed's table under ML, lmer from its default start stops at a local maximum (θ = 0.75);
    the boundary θ = 0 is higher, lme4 finds it from other starts, and so does our fit."""
    ref = {q: v[""] for q, v in REFERENCE[("hubris_full", "ML")].items() if "" in v}
    assert ref["loglik_default_start"] < ref["loglik"] - 0.05
    r = _fit("hubris_full", "ML")
    assert r.singular and math.isclose(r.loglik, ref["loglik"], rel_tol=1e-9)
