"""`fit(formula, data, …)`: parse, check, fit, test and package a mixed model as lme4 would.

The checks are lme4's own (a grouping factor needs ≥ 2 levels; in a linear model fewer levels, and
fewer random coefficients per term, than observations), plus data that have no likelihood maximum
(a constant response, a response the fixed effects fit exactly); each is a ValueError that says why.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

from . import design as design_mod
from . import formula as formula_mod
from .covariance import Covariance
from .design import Design
from .glmm import BinomialMixedModel
from .inference import kenward_roger, satterthwaite
from .lmm import LinearMixedModel, optimise
from .results import MixedModelResult

FAMILIES = ("gaussian", "binomial")
DF_METHODS = ("satterthwaite", "kenward-roger", "z")


def fit(
    formula: str,
    data: pd.DataFrame,
    family: str = "gaussian",
    reml: bool = True,
    df: str | None = None,
    group: str | None = None,
) -> MixedModelResult:
    """Fit an lme4 formula to `data`.

    family "gaussian" (lmer; REML unless reml=False) or "binomial" (glmer, logit link, Laplace).
    df: "satterthwaite" (default for gaussian), "kenward-roger" (REML only) or "z" (Wald z; the only
    choice for binomial, as glmer). group: a formula without random terms means `+ (1|group)`; with
    them, the grouping factor the legacy keys (n_groups, group_var, icc) describe.
    """
    if family not in FAMILIES:
        raise ValueError(f"family {family!r}: choose gaussian or binomial")
    df = df or ("satterthwaite" if family == "gaussian" else "z")
    if df not in DF_METHODS:
        raise ValueError(f"df {df!r}: choose satterthwaite, kenward-roger or z")
    if family == "binomial" and df != "z":
        raise ValueError(f"--df {df} is for linear models; a binomial GLMM has Wald z tests (as glmer)")
    if df == "kenward-roger" and not reml:
        raise ValueError("Kenward-Roger needs a REML fit (as lmerTest): drop --ml or use --df satterthwaite")
    parsed = formula_mod.parse(formula).with_group(group)
    design = design_mod.build(data, parsed, family)
    _check(design, family)
    with threadpool_limits(1, user_api="blas"):  # many small products: one thread is fastest (pyproject)
        if family == "binomial":
            return _fit_glmm(design, group)
        return _fit_lmm(design, reml, df, group)


def _check(d: Design, family: str) -> None:
    for t in d.terms:
        if t.n_levels < 2:
            raise ValueError(f"a random effect needs at least 2 groups; {t.group!r} has {t.n_levels}")
    if family == "binomial":
        return
    if d.n <= d.p:
        raise ValueError(f"{d.n} observations cannot fit {d.p} fixed effects")
    for t in d.terms:
        if t.n_levels >= d.n:
            raise ValueError(
                f"every {t.group!r} has one observation ({t.n_levels} levels for {d.n} rows): the group and "
                "residual variances cannot be told apart"
            )
        if t.q >= d.n:
            raise ValueError(
                f"{t.q} random coefficients of {t.group!r} for {d.n} observations: the random-effect and "
                "residual variances are not identifiable"
            )
    if np.ptp(d.y) == 0:
        raise ValueError(f"the response of {d.formula.text!r} is constant: there is no variance to decompose")
    residual = d.y - d.X @ np.linalg.lstsq(d.X, d.y, rcond=None)[0]
    if residual @ residual <= 1e-20 * float(np.sum((d.y - d.y.mean()) ** 2) + d.y @ d.y):
        raise ValueError(
            f"the fixed effects of {d.formula.text!r} fit the response exactly (no residual variance): "
            "there is no likelihood maximum"
        )


def _fit_lmm(design: Design, reml: bool, df_method: str, group: str | None) -> MixedModelResult:
    model = LinearMixedModel(design, reml)
    theta, converged = optimise(model.deviance, model.cov)
    f = model.factor(theta)
    s = model.scaling
    sigma_int = model.sigma(f)
    if sigma_int < 1e-4 * 1.0:  # the internal y has unit spread: σ has collapsed
        raise ValueError(
            "the residual variance vanishes as the random-effect variance grows: within-group values are "
            "constant (up to the fixed effects), so the likelihood has no maximum"
        )
    q = model.layout.q
    u_big, x_rest = f.solution
    beta_q = x_rest[q : q + model.p]
    beta = s.beta(beta_q)
    vcov_q = sigma_int**2 * f.unscaled_vcov()
    vcov = s.vcov(vcov_q)
    loglik = -0.5 * model.deviance(theta) + model.loglik_shift()
    warnings: list[str] = []
    se = np.sqrt(np.diag(vcov))
    if df_method == "satterthwaite":
        Ri = np.linalg.inv(s.R)  # β = R⁻¹(s·β_Q + …): the contrast for β_j in β_Q is row j of R⁻¹
        dfs, notes = satterthwaite(model.deviance_vp, model.vcov_vp, np.append(theta, sigma_int), Ri)
        warnings += notes
    elif df_method == "kenward-roger":
        comps = _components(model, theta, sigma_int * s.scale)
        vcov_adj, dfs = kenward_roger(design, vcov, comps, (sigma_int * s.scale) ** 2)
        vcov = vcov_adj
        se = np.sqrt(np.diag(vcov))
    else:
        dfs = np.full(model.p, np.inf)
    stat = beta / se
    p = np.where(
        np.isinf(dfs), 2 * stats.norm.sf(np.abs(stat)), 2 * stats.t.sf(np.abs(stat), np.where(np.isinf(dfs), 1, dfs))
    )
    names = design.names
    fixed = pd.DataFrame({"estimate": beta, "se": se, "df": dfs, "statistic": stat, "p": p}, index=names)
    sigma = sigma_int * s.scale
    u = _spherical(model, u_big, x_rest[:q])
    without = None
    if model.cov.n_theta == 1:
        without = -0.5 * model.deviance(np.zeros(1)) + model.loglik_shift()
    return _package(
        design,
        model.cov,
        theta,
        u,
        scale=s.scale,
        sigma=sigma,
        family="gaussian",
        method="REML" if reml else "ML",
        df_method=df_method,
        fixed=fixed,
        vcov=pd.DataFrame(vcov, index=names, columns=names),
        loglik=loglik,
        npar=model.p + model.cov.n_theta + 1,
        converged=converged,
        group=group,
        loglik_without=without,
        warnings=warnings,
    )


def _spherical(model, u_big: np.ndarray, u_rest: np.ndarray) -> list[np.ndarray]:
    """u split per term (in design order), each (levels, k)."""
    terms = model.design.terms
    out: list[np.ndarray | None] = [None] * len(terms)
    out[model.big] = u_big.reshape(terms[model.big].n_levels, terms[model.big].k)
    for i, (offset, levels, k) in zip(
        model.rest_terms, model.layout_u.blocks if hasattr(model, "layout_u") else model.layout.blocks
    ):
        out[i] = u_rest[offset : offset + levels * k].reshape(levels, k)
    return out


def _fit_glmm(design: Design, group: str | None) -> MixedModelResult:
    model = BinomialMixedModel(design)
    theta, beta_q, converged = model.fit()
    mode = model.pirls(theta, beta_q, with_beta=False)
    loglik = -0.5 * mode.laplace + model.counts.log_choose_shift
    warnings: list[str] = []
    if (design.successes != np.round(design.successes)).any():
        warnings.append(
            "non-integer successes (proportions with weights): the estimates are glmer's; its logLik would "
            "round the successes, this one does not"
        )
    nt, p = model.cov.n_theta, model.p
    Ri = np.linalg.inv(model.R)
    beta = Ri @ beta_q
    vcov = None
    try:
        Hi = np.linalg.inv(model.hessian(np.concatenate([theta, beta])))
        vcov = Hi[nt:, nt:] + Hi[nt:, nt:].T  # 2·H⁻¹, symmetrised as vcov.merMod does
        if not np.all(np.isfinite(vcov)) or np.linalg.eigvalsh(vcov).min() <= 0:
            vcov = None
    except np.linalg.LinAlgError:
        vcov = None
    if vcov is None:
        warnings.append(
            "variance-covariance matrix computed from finite-difference Hessian is not positive definite: "
            "falling back to the one from R_X (as glmer)"
        )
        mode = model.pirls(theta, beta_q, with_beta=False)
        vcov = Ri @ model.unscaled_vcov_rx(theta, mode) @ Ri.T
    se = np.sqrt(np.diag(vcov))
    stat = beta / se
    names = design.names
    fixed = pd.DataFrame(
        {"estimate": beta, "se": se, "df": np.full(p, np.inf), "statistic": stat, "p": 2 * stats.norm.sf(np.abs(stat))},
        index=names,
    )
    u = _spherical(model, mode.u_big, mode.u_rest)
    return _package(
        design,
        model.cov,
        theta,
        u,
        scale=1.0,
        sigma=None,
        family="binomial",
        method="Laplace",
        df_method="z",
        fixed=fixed,
        vcov=pd.DataFrame(vcov, index=names, columns=names),
        loglik=loglik,
        npar=p + nt,
        converged=converged,
        group=group,
        loglik_without=None,
        warnings=warnings,
    )


def _components(model, theta: np.ndarray, sigma: float) -> list[np.ndarray]:
    return [sigma**2 * T @ T.T for T in model.cov.T(theta)]


def _package(
    design: Design,
    cov: Covariance,
    theta: np.ndarray,
    u: list[np.ndarray],
    *,
    scale: float,
    sigma: float | None,
    family: str,
    method: str,
    df_method: str,
    fixed: pd.DataFrame,
    vcov: pd.DataFrame,
    loglik: float,
    npar: int,
    converged: bool,
    group: str | None,
    loglik_without: float | None,
    warnings: list[str],
) -> MixedModelResult:
    """Variance components as VarCorr, conditional modes as ranef, and the legacy group."""
    Ts = cov.T(theta)
    unit = (sigma if sigma is not None else 1.0) ** 2
    random, ranef, groups, sizes = [], {}, {}, {}
    seen: dict[str, int] = {}
    for term, T, u_t in zip(design.terms, Ts, u):
        S = unit * T @ T.T
        repeat = seen.get(term.group, 0)
        seen[term.group] = repeat + 1
        label = term.group if not repeat else f"{term.group}.{repeat}"  # as VarCorr names a second term
        for a, name in enumerate(term.names):
            random.append({"group": label, "term": name, "variance": float(S[a, a]), "sd": math.sqrt(S[a, a])})
        for a in range(term.k):
            for b in range(a + 1, term.k):
                denom = math.sqrt(S[a, a] * S[b, b])
                random.append(
                    {
                        "group": label,
                        "term": term.names[a],
                        "term2": term.names[b],
                        "covariance": float(S[a, b]),
                        "correlation": float(S[a, b] / denom) if denom > 0 else None,
                    }
                )
        b = (u_t @ T.T) * scale  # b = Λu, back on the response's scale
        frame = pd.DataFrame(b, index=term.levels, columns=term.names)
        # as lme4's ranef(): one table per grouping factor, the columns of all its terms
        ranef[term.group] = pd.concat([ranef[term.group], frame], axis=1) if term.group in ranef else frame
        groups.setdefault(term.group, term.n_levels)
        counts = np.bincount(term.codes, minlength=term.n_levels)
        sizes.setdefault(term.group, {lev: int(c) for lev, c in zip(term.levels, counts)})
    if sigma is not None:
        random.append({"group": "Residual", "variance": sigma**2, "sd": sigma})
    return MixedModelResult(
        formula=design.formula.text,
        family=family,
        method=method,
        df_method=df_method,
        nobs=design.n,
        fixed=fixed,
        vcov=vcov,
        random=random,
        sigma=sigma,
        theta=np.asarray(theta, float),
        loglik=float(loglik),
        npar=npar,
        singular=cov.singular(theta),
        converged=bool(converged),
        groups=groups,
        group_sizes=sizes,
        ranef=ranef,
        group=group or design.terms[0].group,
        loglik_without=loglik_without,
        warnings=warnings,
    )
