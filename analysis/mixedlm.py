"""Linear mixed model with a random intercept per group, fitted the way lme4 fits it.

statsmodels builds the design (formula, fixed-effect matrix, groups); the fit itself maximises lme4's
profiled (RE)ML criterion over θ = σ_group / σ, the only free parameter once β and σ² are profiled out.
With one random intercept the criterion is a closed form in per-group sums, so it is evaluated exactly
on a grid that includes the boundary θ = 0 and then refined; nothing can wander to a degenerate point
with an infinite likelihood, as statsmodels' default `lbfgs` fit of the seed's data does.

Reported as lme4 reports them: fixed effects with standard errors from σ²(X′V⁻¹X)⁻¹, variance
components, ICC, the (RE)ML log-likelihood, and `singular` when θ̂ is on the boundary (lme4's
`isSingular`, tolerance 1e-4).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

SINGULAR_TOL = 1e-4  # lme4::isSingular default


@dataclass(frozen=True)
class _Design:
    y: np.ndarray
    X: np.ndarray
    names: list[str]
    groups: np.ndarray  # group index per row
    group_labels: list[str]

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def p(self) -> int:
        return self.X.shape[1]


class _Profile:
    """The profiled criterion as a function of θ, from per-group sums computed once."""

    def __init__(self, d: _Design, reml: bool):
        self.d, self.reml = d, reml
        g = d.groups
        k = len(d.group_labels)
        self.n_i = np.bincount(g, minlength=k).astype(float)
        self.sx = np.zeros((k, d.p))
        np.add.at(self.sx, g, d.X)
        self.sy = np.bincount(g, weights=d.y, minlength=k)
        self.XtX = d.X.T @ d.X
        self.Xty = d.X.T @ d.y
        self.yty = float(d.y @ d.y)

    def solve(self, theta: float) -> dict[str, Any]:
        t = theta * theta
        w = t / (1.0 + self.n_i * t)  # V_i^{-1} = I - w_i J
        XVX = self.XtX - (self.sx * w[:, None]).T @ self.sx
        XVy = self.Xty - (self.sx * w[:, None]).T @ self.sy
        yVy = self.yty - float(np.sum(w * self.sy**2))
        chol = np.linalg.cholesky(XVX)
        beta = np.linalg.solve(XVX, XVy)
        rss = yVy - float(beta @ XVy)  # r'V^{-1}r
        n, p = self.d.n, self.d.p
        dof = n - p if self.reml else n
        sigma2 = rss / dof
        logdet_v = float(np.sum(np.log1p(self.n_i * t)))
        loglik = -0.5 * (dof * (1.0 + math.log(2 * math.pi * sigma2)) + logdet_v)
        if self.reml:
            loglik -= 0.5 * 2.0 * float(np.sum(np.log(np.diag(chol))))
        return {"theta": theta, "beta": beta, "sigma2": sigma2, "XVX": XVX, "loglik": loglik}

    def loglik(self, theta: float) -> float:
        try:
            return self.solve(theta)["loglik"]
        except (np.linalg.LinAlgError, ValueError, ZeroDivisionError):
            return -math.inf


def _maximise(profile: _Profile) -> float:
    """θ̂: exact values on a wide log grid and at 0, then bounded Brent around the best point."""
    grid = np.concatenate([[0.0], np.logspace(-6, 3, 400)])
    values = np.array([profile.loglik(th) for th in grid])
    best = int(np.nanargmax(np.where(np.isfinite(values), values, -np.inf)))
    lo = grid[max(best - 1, 0)]
    hi = grid[min(best + 1, len(grid) - 1)]
    if hi <= lo:
        return float(grid[best])
    res = optimize.minimize_scalar(lambda th: -profile.loglik(th), bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-12, "maxiter": 500})
    candidates = [(profile.loglik(th), th) for th in (res.x, grid[best], 0.0)]
    return float(max(candidates)[1])


@dataclass
class MixedLMResult:
    """A fitted random-intercept model; `summary()` renders it, `to_dict()` gives the contract's JSON."""

    formula: str
    group: str
    method: str
    n: int
    n_groups: int
    group_sizes: dict[str, int]
    fe_params: dict[str, float]
    bse: dict[str, float]
    group_var: float
    resid_var: float
    theta: float
    loglik: float
    reml_loglik: float | None
    converged: bool
    lrt: dict[str, float]
    warnings: list[str] = field(default_factory=list)
    statsmodels_check: dict[str, Any] | None = None

    @property
    def singular(self) -> bool:
        return self.theta < SINGULAR_TOL

    @property
    def icc(self) -> float:
        total = self.group_var + self.resid_var
        return self.group_var / total if total > 0 else float("nan")

    @cached_property
    def z(self) -> dict[str, float]:
        return {k: self.fe_params[k] / self.bse[k] if self.bse[k] > 0 else float("nan") for k in self.fe_params}

    @cached_property
    def pvalues(self) -> dict[str, float]:
        return {k: float(2 * stats.norm.sf(abs(v))) for k, v in self.z.items()}

    @cached_property
    def conf_int(self) -> dict[str, tuple[float, float]]:
        q = stats.norm.ppf(0.975)
        return {k: (self.fe_params[k] - q * self.bse[k], self.fe_params[k] + q * self.bse[k]) for k in self.fe_params}

    def to_dict(self) -> dict[str, Any]:
        return {
            "formula": self.formula,
            "group": self.group,
            "method": self.method,
            "n": self.n,
            "n_groups": self.n_groups,
            "n_single_member_groups": sum(1 for s in self.group_sizes.values() if s == 1),
            "group_sizes": self.group_sizes,
            "fe_params": self.fe_params,
            "bse": self.bse,
            "z": self.z,
            "pvalues": self.pvalues,
            "conf_int": {k: list(v) for k, v in self.conf_int.items()},
            "group_var": self.group_var,
            "resid_var": self.resid_var,
            "icc": self.icc,
            "theta": self.theta,
            "loglik": self.loglik,
            "reml_loglik": self.reml_loglik,
            "singular": self.singular,
            "converged": self.converged,
            "lrt_random_effect": self.lrt,
            "warnings": self.warnings,
            "statsmodels_check": self.statsmodels_check,
        }

    def summary(self) -> str:
        lines = [
            f"Linear mixed model ({self.method}), random intercept by {self.group}",
            f"  formula: {self.formula}",
            f"  n = {self.n}, groups = {self.n_groups} (single-member: {sum(1 for s in self.group_sizes.values() if s == 1)})",
            f"  {'REML' if self.method == 'REML' else 'ML'} log-likelihood = {self.loglik:.6f}",
            "",
            f"  {'term':<20}{'estimate':>12}{'std.err':>12}{'z':>9}{'p':>11}{'95% CI':>26}",
        ]
        for k in self.fe_params:
            lo, hi = self.conf_int[k]
            lines.append(
                f"  {k:<20}{self.fe_params[k]:>12.6f}{self.bse[k]:>12.6f}{self.z[k]:>9.3f}{self.pvalues[k]:>11.3g}"
                f"   [{lo:.4f}, {hi:.4f}]"
            )
        lines += [
            "",
            f"  {self.group} variance = {self.group_var:.8g}   residual variance = {self.resid_var:.8g}   ICC = {self.icc:.4f}",
            f"  LRT for the random effect: stat = {self.lrt['stat']:.4f}, p = {self.lrt['p_value']:.4g} (χ²₀:₁ mixture)",
        ]
        if self.singular:
            lines.append(f"  boundary (singular) fit: {self.group} variance estimated at zero (θ̂ = {self.theta:.2e}), as lme4's isSingular")
        for w in self.warnings:
            lines.append(f"  note: {w}")
        return "\n".join(lines)

    def latex(self) -> str:
        rows = []
        for k in self.fe_params:
            lo, hi = self.conf_int[k]
            name = k.replace("_", r"\_")
            rows.append(f"{name} & {self.fe_params[k]:.4f} & {self.bse[k]:.4f} & {self.z[k]:.2f} & "
                        f"{_fmt_p_latex(self.pvalues[k])} & [{lo:.3f}, {hi:.3f}] \\\\")
        return "\n".join([
            r"\begin{tabular}{lrrrrr}",
            r"\hline",
            r"Term & Estimate & SE & $z$ & $p$ & 95\% CI \\",
            r"\hline",
            *rows,
            r"\hline",
            rf"\multicolumn{{6}}{{l}}{{{self.method}; $\sigma^2_{{\mathrm{{{_tex(self.group)}}}}} = {self.group_var:.4g}$, "
            rf"$\sigma^2 = {self.resid_var:.4g}$, ICC $= {self.icc:.3f}$; {self.n} obs., {self.n_groups} groups"
            + (r"; singular fit" if self.singular else "") + r"} \\",
            r"\hline",
            r"\end{tabular}",
        ])


def _tex(s: str) -> str:
    return s.replace("_", r"\_")


def _fmt_p_latex(p: float) -> str:
    return "$<0.001$" if p < 0.001 else f"{p:.3f}"


def _design(data: pd.DataFrame, formula: str, group: str) -> _Design:
    import statsmodels.formula.api as smf

    if group not in data.columns:
        raise ValueError(f"group column {group!r} not in data (columns: {', '.join(map(str, data.columns))})")
    frame = data.dropna(subset=[group])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = smf.mixedlm(formula, frame, groups=frame[group])
    labels = [str(x) for x in pd.unique(model.groups)]
    index = {g: i for i, g in enumerate(labels)}
    return _Design(
        y=np.asarray(model.endog, dtype=float),
        X=np.asarray(model.exog, dtype=float),
        names=list(model.exog_names),
        groups=np.array([index[str(g)] for g in model.groups]),
        group_labels=labels,
    )


def _statsmodels_default(data: pd.DataFrame, formula: str, group: str, reml: bool) -> dict[str, Any]:
    """What statsmodels' default fit reports, kept beside ours so a disagreement is visible."""
    import statsmodels.formula.api as smf

    frame = data.dropna(subset=[group])
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit = smf.mixedlm(formula, frame, groups=frame[group]).fit(reml=reml, method="lbfgs")
        return {
            "method": "lbfgs (statsmodels default)",
            "loglik": float(fit.llf) if np.isfinite(fit.llf) else str(fit.llf),
            "group_var": float(fit.cov_re.iloc[0, 0]),
            "resid_var": float(fit.scale),
            "converged": bool(fit.converged),
            "warnings": sorted({str(w.message).splitlines()[0] for w in caught}),
        }
    except Exception as exc:  # statsmodels' own failure is a finding, not ours
        return {"method": "lbfgs (statsmodels default)", "error": f"{type(exc).__name__}: {exc}"}


def fit_mixedlm(data: pd.DataFrame, formula: str, group: str, reml: bool = True, check_statsmodels: bool = True) -> MixedLMResult:
    d = _design(data, formula, group)
    if d.n <= d.p:
        raise ValueError(f"{d.n} observations cannot fit {d.p} fixed effects")
    if len(d.group_labels) < 2:
        raise ValueError(f"a random effect needs at least 2 groups; {group!r} has {len(d.group_labels)}")
    if np.linalg.matrix_rank(d.X) < d.p:
        raise ValueError(f"the fixed-effect design of {formula!r} is rank deficient")
    profile = _Profile(d, reml)
    theta = _maximise(profile)
    fit = profile.solve(theta)
    sigma2 = fit["sigma2"]
    cov = sigma2 * np.linalg.inv(fit["XVX"])
    at_zero = profile.loglik(0.0)
    stat = max(0.0, 2 * (fit["loglik"] - at_zero))
    notes = []
    sizes = {lab: int(c) for lab, c in zip(d.group_labels, np.bincount(d.groups, minlength=len(d.group_labels)))}
    singles = sum(1 for s in sizes.values() if s == 1)
    if singles:
        notes.append(f"{singles} of {len(sizes)} groups have a single member")
    return MixedLMResult(
        formula=formula,
        group=group,
        method="REML" if reml else "ML",
        n=d.n,
        n_groups=len(d.group_labels),
        group_sizes=sizes,
        fe_params={k: float(v) for k, v in zip(d.names, fit["beta"])},
        bse={k: float(math.sqrt(v)) for k, v in zip(d.names, np.diag(cov))},
        group_var=float(sigma2 * theta * theta),
        resid_var=float(sigma2),
        theta=theta,
        loglik=float(fit["loglik"]),
        reml_loglik=float(fit["loglik"]) if reml else None,
        converged=bool(np.isfinite(fit["loglik"])),
        lrt={"stat": stat, "df": 1, "p_value": float(0.5 * stats.chi2.sf(stat, 1)) if stat > 0 else 1.0,
             "loglik_without": float(at_zero)},
        warnings=notes,
        statsmodels_check=_statsmodels_default(data, formula, group, reml) if check_statsmodels else None,
    )
