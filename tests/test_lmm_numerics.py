"""Numerical behaviour of the mixed-model engine: invariance to shifts and scales, the blocked Cholesky,
binomial counts against the rows they summarise, and p-values that underflow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import gammaln

from evalhouse.analysis.lmm import fit
from evalhouse.analysis.lmm.blocks import BlockCholesky

from .conftest import REPO

REF = REPO / "tests" / "reference" / "lme4"


def _sleep() -> pd.DataFrame:
    return pd.read_csv(REF / "sleepstudy.csv")


@pytest.mark.parametrize("reml", [True, False], ids=["REML", "ML"])
def test_response_shifted_by_1e8_gives_the_same_fit(reml):
    """y + 1e8 moves only the intercept (by 1e8); SEs and the log-likelihood stay put, (co)variances to the
    optimiser's 1e-5 and the Satterthwaite df to 1e-4 (numerical derivatives, as lmerTest's)."""
    d = _sleep()
    a = fit("Reaction ~ Days + (Days|Subject)", d, reml=reml)
    d["Reaction"] += 1e8
    b = fit("Reaction ~ Days + (Days|Subject)", d, reml=reml)
    assert b.fixed.loc["(Intercept)", "estimate"] - 1e8 == pytest.approx(
        a.fixed.loc["(Intercept)", "estimate"], rel=1e-6
    )
    np.testing.assert_allclose(b.fixed.se, a.fixed.se, rtol=1e-6)
    np.testing.assert_allclose(b.fixed.df, a.fixed.df, rtol=1e-4)
    np.testing.assert_allclose(
        [r.get("variance", r.get("covariance")) for r in b.random],
        [r.get("variance", r.get("covariance")) for r in a.random],
        rtol=1e-5,
    )
    assert b.loglik == pytest.approx(a.loglik, rel=1e-9)


def test_scaled_response_and_shifted_covariate():
    """y × 1e-6 scales estimates by 1e-6 and moves the REML log-likelihood by (n − p)·log 1e6; a fixed-effect
    covariate shifted by 1e6 changes only the intercept."""
    d = _sleep()
    a = fit("Reaction ~ Days + (Days|Subject)", d)
    s = d.assign(Reaction=d.Reaction * 1e-6)
    b = fit("Reaction ~ Days + (Days|Subject)", s)
    np.testing.assert_allclose(b.fixed.estimate * 1e6, a.fixed.estimate, rtol=1e-6)
    assert b.loglik == pytest.approx(a.loglik + (180 - 2) * np.log(1e6), rel=1e-9)
    a = fit("Reaction ~ Days + (1|Subject)", d)
    c = fit("Reaction ~ Days + (1|Subject)", d.assign(Days=d.Days + 1e6))
    assert c.fixed.loc["Days", "estimate"] == pytest.approx(a.fixed.loc["Days", "estimate"], rel=1e-6)
    assert c.fixed.loc["Days", "se"] == pytest.approx(a.fixed.loc["Days", "se"], rel=1e-6)
    assert c.loglik == pytest.approx(a.loglik, rel=1e-8)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_block_cholesky_equals_the_dense_factorisation(k):
    """log|A| and A⁻¹b from the level-by-level elimination equal numpy's on the assembled matrix."""
    rng = np.random.default_rng(k)
    L, m = 40, 7
    B = rng.normal(size=(L, k, k))
    A_BB = B @ np.swapaxes(B, 1, 2) + np.eye(k)
    A_BR = rng.normal(size=(L, k, m)) * 0.3
    A_RR = np.eye(m) * (L * k) + rng.normal(size=(m, m)) * 0.1
    A_RR = (A_RR + A_RR.T) / 2
    dense = np.zeros((L * k + m, L * k + m))
    for lev in range(L):
        dense[lev * k : (lev + 1) * k, lev * k : (lev + 1) * k] = A_BB[lev]
    dense[: L * k, L * k :] = A_BR.reshape(L * k, m)
    dense[L * k :, : L * k] = A_BR.reshape(L * k, m).T
    dense[L * k :, L * k :] = A_RR
    chol = BlockCholesky(A_BB, A_BR, A_RR)
    logdet = chol.logdet_big + 2 * np.sum(np.log(chol.diag_rest))
    assert logdet == pytest.approx(np.linalg.slogdet(dense)[1], rel=1e-12)
    b = rng.normal(size=L * k + m)
    x_big, x_rest = chol.solve(b[: L * k], b[L * k :])
    np.testing.assert_allclose(np.concatenate([x_big, x_rest]), np.linalg.solve(dense, b), rtol=1e-9, atol=1e-12)


def test_bernoulli_rows_and_their_counts_give_one_fit():
    """cbpp as 842 Bernoulli rows fits as cbind counts do; only Σ log C(n, k) separates the log-likelihoods."""
    cb = pd.read_csv(REF / "cbpp.csv").astype({"period": str, "herd": str})
    counts = fit("cbind(incidence, size - incidence) ~ period + (1|herd)", cb, family="binomial")
    rows = cb.loc[cb.index.repeat(cb["size"])].copy()
    rows["sick"] = np.concatenate([np.r_[np.ones(k), np.zeros(n - k)] for k, n in zip(cb.incidence, cb["size"])])
    bern = fit("sick ~ period + (1|herd)", rows, family="binomial")
    np.testing.assert_allclose(bern.fixed.estimate, counts.fixed.estimate, rtol=1e-6)
    np.testing.assert_allclose(bern.fixed.se, counts.fixed.se, rtol=1e-4)
    shift = float(np.sum(gammaln(cb["size"] + 1) - gammaln(cb.incidence + 1) - gammaln(cb["size"] - cb.incidence + 1)))
    assert bern.loglik == pytest.approx(counts.loglik - shift, rel=1e-8)
    assert bern.nobs == len(rows) and counts.nobs == len(cb)


def test_underflowing_p_is_printed_as_below_1e_300():
    """A p-value that underflows to 0 reads `< 1e-300` in the summary and the LaTeX, never 0."""
    r = fit("Reaction ~ Days + (Days|Subject)", _sleep(), reml=False, df="z")
    assert r.fixed.loc["(Intercept)", "p"] < 1e-300
    assert "< 1e-300" in r.summary() and "10^{-300}" in r.latex()


def test_to_dict_has_the_contract_keys():
    """The JSON keeps the old keys and adds fixed, random, aic, deviance, family, method, nobs."""
    out = fit("Reaction ~ Days + (Days|Subject)", _sleep()).to_dict()
    for key in (
        "n",
        "n_groups",
        "method",
        "fe_params",
        "bse",
        "group_var",
        "resid_var",
        "icc",
        "loglik",
        "reml_loglik",
        "singular",
        "converged",
        "fixed",
        "random",
        "aic",
        "deviance",
        "family",
        "nobs",
    ):
        assert key in out
    assert set(out["fixed"]["Days"]) == {"estimate", "se", "df", "statistic", "p"}
    kinds = {tuple(sorted(r)) for r in out["random"]}
    assert ("correlation", "covariance", "group", "term", "term2") in kinds
    assert any(r["group"] == "Residual" for r in out["random"])


def test_glmm_falls_back_to_rx_when_the_hessian_is_unusable(monkeypatch):
    """A finite-difference Hessian that is not positive definite gives R_X standard errors and a warning,
    as vcov.merMod does; they are close to the Hessian ones on cbpp."""
    from evalhouse.analysis.lmm import glmm

    cb = pd.read_csv(REF / "cbpp.csv").astype({"period": str, "herd": str})
    formula = "cbind(incidence, size - incidence) ~ period + (1|herd)"
    good = fit(formula, cb, family="binomial")
    monkeypatch.setattr(glmm.BinomialMixedModel, "hessian", lambda self, x: -np.eye(len(x)))
    fallback = fit(formula, cb, family="binomial")
    assert any("falling back" in w for w in fallback.warnings)
    np.testing.assert_allclose(fallback.fixed.estimate, good.fixed.estimate, rtol=1e-9)
    np.testing.assert_allclose(fallback.fixed.se, good.fixed.se, rtol=0.05)
