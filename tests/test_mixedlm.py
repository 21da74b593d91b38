"""The mixed model matches lme4 (figures in ../shared/reference/lme4_reference.txt)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from evalhouse.analysis.mixedlm import fit_mixedlm

from .conftest import REPO

LME4 = {  # label: (intercept, beta, se, lab_var, resid_var, icc, reml)
    "full": (0.47736236, -0.4206243, 0.033685039, 0.0050773606, 0.0058879072, 0.46304, 25.198968),
    "no_phi4": (0.50743124, -0.44264787, 0.030486192, 0.00044584664, 0.0054461167, 0.0756703, 29.735845),
    "no_reasoning": (0.44523654, -0.4024489, 0.01906483, 0.0057279856, 0.0012501794, 0.820844, 37.906312),
}


def _data(label):
    d = pd.read_csv(REPO / "examples" / "hubris_models.csv")
    if label == "no_phi4":
        return d[d.model != "Phi-4"]
    if label == "no_reasoning":
        return d[~d.model.isin(["o3-mini", "DeepSeek R1"])]
    return d


def _close(a, b, digits=4):
    return math.isclose(a, b, rel_tol=10**-digits)


@pytest.mark.parametrize("label", list(LME4))
def test_matches_lme4(label):
    """Fixed effects, lme4's standard error, variances, ICC and REML log-likelihood to 4 significant digits."""
    r = fit_mixedlm(_data(label), "hubris ~ is_flagship", "lab")
    icpt, beta, se, lab_var, resid_var, icc, reml = LME4[label]
    assert _close(r.fe_params["(Intercept)"], icpt)
    assert _close(r.fe_params["is_flagship"], beta)
    assert _close(r.bse["is_flagship"], se)
    assert _close(r.group_var, lab_var)
    assert _close(r.resid_var, resid_var)
    assert _close(r.icc, icc)
    assert _close(r.loglik, reml)
    assert not r.singular and r.converged


def test_full_hubris_fit_has_lmertest_satterthwaite_p():
    """The full hubris fit tests is_flagship with lmerTest's t (p 8.2e-11), not the old z (8.8e-36)."""
    r = fit_mixedlm(_data("full"), "hubris ~ is_flagship", "lab")
    assert f"{r.fixed.loc['is_flagship', 'p']:.1e}" == "8.2e-11"
    assert r.fixed.loc["is_flagship", "df"] == pytest.approx(19.708, rel=1e-3)


def test_singular_fit_reported():
    """A group variance of zero is reported as singular, with a finite likelihood."""
    # Every group has the same mean, so the between-group variance is estimated at zero.
    d = pd.DataFrame(
        {
            "y": [0.0, 1.4, 0.4, 1.0, 0.2, 1.2, 0.3, 1.1],
            "x": [0, 1, 0, 1, 0, 1, 0, 1],
            "g": ["a", "a", "b", "b", "c", "c", "d", "d"],
        }
    )
    r = fit_mixedlm(d, "y ~ x", "g")
    assert r.singular and r.group_var < 1e-8 and math.isfinite(r.loglik)
