"""Linear mixed model with a random intercept per group, fitted the way lme4 fits it.

patsy (statsmodels' formula engine) builds the design; the fit itself maximises lme4's
profiled (RE)ML criterion over θ = σ_group / σ, the only free parameter once β and σ² are profiled out.
With one random intercept the criterion is a closed form in per-group sums, so it is evaluated exactly
on a grid that includes the boundary θ = 0 and then refined; nothing can wander to a degenerate point
with an infinite likelihood, as statsmodels' default `lbfgs` fit of the seed's data does.

Reported as lme4 reports them: fixed effects with standard errors from σ²(X′V⁻¹X)⁻¹ and Wald intervals
(`confint(method = "Wald")`), variance components, ICC, the (RE)ML log-likelihood, the conditional modes
of the group intercepts (`ranef`), and `singular` when θ̂ is on the boundary (lme4's `isSingular`,
tolerance 1e-4). The random effect is tested by a likelihood ratio against the same model without it,
with the χ²₀:₁ mixture p-value that a variance on the boundary calls for (Self & Liang 1987).
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .format import jsonable, num, p_text, tex

SINGULAR_TOL = 1e-4  # lme4::isSingular default
STATSMODELS_CHECK_MAX_N = 20_000  # statsmodels' own fit is only a cross-check; skip it on big data


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
    """The profiled criterion as a function of θ, from per-group sums computed once.

    With V = I + θ²ZZ′ block diagonal, V_i⁻¹ = I − w_i J with w_i = θ² / (1 + n_i θ²), so X′V⁻¹X,
    X′V⁻¹y and y′V⁻¹y need only per-group sums of X and y; log|V| = Σ log(1 + n_i θ²).
    """

    def __init__(self, d: _Design, reml: bool):
        self.d, self.reml = d, reml
        k = len(d.group_labels)
        self.n_i = np.bincount(d.groups, minlength=k).astype(float)
        self.sx = np.column_stack([np.bincount(d.groups, weights=col, minlength=k) for col in d.X.T])
        self.sy = np.bincount(d.groups, weights=d.y, minlength=k)
        self.sxx = (self.sx[:, :, None] * self.sx[:, None, :]).reshape(k, -1)  # per-group outer products
        self.sxy = self.sx * self.sy[:, None]
        self.XtX = d.X.T @ d.X
        self.Xty = d.X.T @ d.y
        self.yty = float(d.y @ d.y)
        self.tss = float(np.sum((d.y - d.y.mean()) ** 2))

    def weights(self, theta: float) -> np.ndarray:
        t = theta * theta
        return t / (1.0 + self.n_i * t)

    def solve(self, theta: float) -> dict[str, Any]:
        w = self.weights(theta)
        XVX = self.XtX - (self.sx * w[:, None]).T @ self.sx
        XVy = self.Xty - (self.sx * w[:, None]).T @ self.sy
        yVy = self.yty - float(np.sum(w * self.sy**2))
        chol = np.linalg.cholesky(XVX)
        beta = np.linalg.solve(XVX, XVy)
        rss = yVy - float(beta @ XVy)  # r′V⁻¹r
        n, p = self.d.n, self.d.p
        dof = n - p if self.reml else n
        if not rss > 1e-10 * self.tss:  # an exact fit, up to rounding: no likelihood maximum
            raise ZeroDivisionError("no residual variance")
        sigma2 = rss / dof
        logdet_v = float(np.sum(np.log1p(self.n_i * theta * theta)))
        loglik = -0.5 * (dof * (1.0 + math.log(2 * math.pi * sigma2)) + logdet_v)
        if self.reml:
            loglik -= float(np.sum(np.log(np.diag(chol))))
        return {"theta": theta, "beta": beta, "sigma2": sigma2, "XVX": XVX, "loglik": loglik, "w": w}

    def loglik(self, theta: float) -> float:
        try:
            return self.solve(theta)["loglik"]
        except (np.linalg.LinAlgError, ValueError, ZeroDivisionError):
            return -math.inf

    def loglik_grid(self, thetas: np.ndarray) -> np.ndarray:
        """`loglik` at many θ at once (the same arithmetic, batched over θ); −inf where it is undefined."""
        t = thetas**2
        w = t[:, None] / (1.0 + self.n_i[None, :] * t[:, None])  # (T, k)
        p = self.d.p
        XVX = self.XtX[None] - (w @ self.sxx).reshape(-1, p, p)
        XVy = self.Xty[None] - w @ self.sxy
        yVy = self.yty - w @ (self.sy**2)
        try:
            chol = np.linalg.cholesky(XVX)
            beta = np.linalg.solve(XVX, XVy[..., None])[..., 0]
        except np.linalg.LinAlgError:
            return np.array([self.loglik(th) for th in thetas])
        rss = yVy - np.einsum("tp,tp->t", beta, XVy)
        n = self.d.n
        dof = n - p if self.reml else n
        ok = rss > 1e-10 * self.tss
        sigma2 = np.where(ok, rss, 1.0) / dof
        logdet_v = np.log1p(self.n_i[None, :] * t[:, None]).sum(axis=1)
        loglik = -0.5 * (dof * (1.0 + np.log(2 * math.pi * sigma2)) + logdet_v)
        if self.reml:
            loglik -= np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        return np.where(ok, loglik, -np.inf)


def _maximise(profile: _Profile) -> tuple[float, bool]:
    """θ̂ and whether the search converged: a log grid with 0, widened while the best point is its top
    end, then bounded Brent between the best point's neighbours. The boundary θ = 0 wins ties."""
    top = 3.0
    while True:
        grid = np.concatenate([[0.0], np.logspace(-6, top, 60 * int(top + 7))])
        values = profile.loglik_grid(grid)
        if not np.isfinite(values).any():
            raise ValueError(
                "the (RE)ML criterion is not finite for any group variance: the fixed effects fit the "
                "response exactly (no residual variance)"
            )
        best = int(np.argmax(values))
        if best < len(grid) - 1 or top >= 12:
            break
        top += 3.0
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(
        lambda th: -profile.loglik(th),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-12 * max(hi, 1e-6), "maxiter": 500},
    )
    at_zero = profile.loglik(0.0)
    ll, theta = max((profile.loglik(th), th) for th in (res.x, grid[best]))
    if at_zero >= ll - 1e-10 * max(1.0, abs(ll)):  # a tie within rounding goes to the boundary, as lme4's
        ll, theta = at_zero, 0.0
    return float(theta), bool(res.success or theta in (0.0, grid[best])) and math.isfinite(ll)


@dataclass
class MixedLMResult:
    """A fitted random-intercept model.

    `summary()` renders text, `latex()` a table, `to_dict()` the contract's JSON. Derived figures (z, p,
    Wald intervals, ICC, AIC) are computed from the stored fit on first use.
    """

    formula: str
    group: str
    method: str
    n: int
    n_groups: int
    group_sizes: dict[str, int]
    fe_params: dict[str, float]
    bse: dict[str, float]
    cov_fe: list[list[float]]
    group_var: float
    resid_var: float
    theta: float
    loglik: float
    loglik_without: float
    random_effects: dict[str, float]
    converged: bool
    warnings: list[str] = field(default_factory=list)
    statsmodels_check: dict[str, Any] | None = None

    @property
    def singular(self) -> bool:
        return self.theta < SINGULAR_TOL

    @property
    def reml_loglik(self) -> float | None:
        return self.loglik if self.method == "REML" else None

    @property
    def n_single_member_groups(self) -> int:
        return sum(1 for s in self.group_sizes.values() if s == 1)

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
        """Wald 95% intervals, as lme4's `confint(m, method = "Wald")`."""
        q = stats.norm.ppf(0.975)
        return {k: (self.fe_params[k] - q * self.bse[k], self.fe_params[k] + q * self.bse[k]) for k in self.fe_params}

    @cached_property
    def lrt(self) -> dict[str, float]:
        """Likelihood ratio of the random effect against the same model without it (same method).

        Under H0 the variance is on the boundary, so the statistic follows ½χ²₀ + ½χ²₁ and the p-value is
        half the χ²₁ tail (1 when the statistic is 0).
        """
        stat = max(0.0, 2.0 * (self.loglik - self.loglik_without))
        p = 0.5 * float(stats.chi2.sf(stat, 1)) if stat > 0 else 1.0
        return {
            "stat": stat,
            "df": 1,
            "p_value": p,
            "loglik_without": self.loglik_without,
            "reference": "0.5*chi2(0) + 0.5*chi2(1)",
        }

    @property
    def n_params(self) -> int:
        return len(self.fe_params) + 2

    @property
    def aic(self) -> float | None:
        """AIC under ML; None under REML, whose likelihoods do not compare across fixed effects."""
        return None if self.method == "REML" else -2 * self.loglik + 2 * self.n_params

    @property
    def bic(self) -> float | None:
        return None if self.method == "REML" else -2 * self.loglik + math.log(self.n) * self.n_params

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "formula": self.formula,
                "group": self.group,
                "method": self.method,
                "n": self.n,
                "n_groups": self.n_groups,
                "n_single_member_groups": self.n_single_member_groups,
                "group_sizes": self.group_sizes,
                "fe_params": self.fe_params,
                "bse": self.bse,
                "z": self.z,
                "pvalues": self.pvalues,
                "conf_int": {k: list(v) for k, v in self.conf_int.items()},
                "cov_fe": self.cov_fe,
                "group_var": self.group_var,
                "resid_var": self.resid_var,
                "icc": self.icc,
                "theta": self.theta,
                "loglik": self.loglik,
                "reml_loglik": self.reml_loglik,
                "aic": self.aic,
                "bic": self.bic,
                "singular": self.singular,
                "converged": self.converged,
                "lrt_random_effect": self.lrt,
                "random_effects": self.random_effects,
                "warnings": self.warnings,
                "statsmodels_check": self.statsmodels_check,
            }
        )

    def summary(self) -> str:
        sizes = list(self.group_sizes.values())
        lines = [
            f"Linear mixed model ({self.method}), random intercept by {self.group}",
            f"  formula: {self.formula} + (1|{self.group})",
            f"  n = {self.n}, groups = {self.n_groups} (size min/mean/max {min(sizes)}/{np.mean(sizes):.1f}/{max(sizes)};"
            f" single-member: {self.n_single_member_groups})",
            f"  {self.method} log-likelihood = {self.loglik:.6f}   converged: {'yes' if self.converged else 'NO'}",
            "",
            f"  {'term':<20}{'estimate':>12}{'std.err':>12}{'z':>9}{'p':>11}   95% Wald CI",
        ]
        for k in self.fe_params:
            lo, hi = self.conf_int[k]
            lines.append(
                f"  {k:<20}{self.fe_params[k]:>12.6f}{self.bse[k]:>12.6f}{self.z[k]:>9.3f}"
                f"{self.pvalues[k]:>11.3g}   [{lo:.4f}, {hi:.4f}]"
            )
        lines += [
            "",
            f"  {self.group} variance = {self.group_var:.8g}   residual variance = {self.resid_var:.8g}"
            f"   ICC = {self.icc:.4f}",
            f"  LRT of the random effect: stat = {self.lrt['stat']:.4f}, {p_text(self.lrt['p_value'])} (½χ²₀ + ½χ²₁)",
        ]
        if self.singular:
            lines.append(
                f"  boundary (singular) fit: {self.group} variance estimated at zero"
                f" (θ̂ = {self.theta:.2e} < {SINGULAR_TOL:g}), as lme4's isSingular"
            )
        for w in self.warnings:
            lines.append(f"  note: {w}")
        return "\n".join(lines)

    def latex(self) -> str:
        rows = []
        for k in self.fe_params:
            lo, hi = self.conf_int[k]
            rows.append(
                f"{tex(k)} & {self.fe_params[k]:.4f} & {self.bse[k]:.4f} & {self.z[k]:.2f} & "
                f"{_p_cell(self.pvalues[k])} & [{lo:.3f}, {hi:.3f}] \\\\"
            )
        note = (
            f"{self.method}; $\\sigma^2_{{\\mathrm{{{tex(self.group)}}}}} = {self.group_var:.4g}$, "
            f"$\\sigma^2 = {self.resid_var:.4g}$, ICC $= {num(self.icc)}$; "
            f"{self.n} obs., {self.n_groups} groups" + ("; singular fit" if self.singular else "")
        )
        return "\n".join(
            [
                r"\begin{tabular}{lrrrrr}",
                r"\hline",
                r"Term & Estimate & SE & $z$ & $p$ & 95\% CI \\",
                r"\hline",
                *rows,
                r"\hline",
                rf"\multicolumn{{6}}{{l}}{{{note}}} \\",
                r"\hline",
                r"\end{tabular}",
            ]
        )


def _p_cell(p: float) -> str:
    return "$<0.001$" if p < 0.001 else f"{p:.3f}"


def _design(data: pd.DataFrame, formula: str, group: str) -> _Design:
    """y, X (patsy, as statsmodels' formulas build them) and integer group codes, rows with NA dropped."""
    import patsy

    if group not in data.columns:
        raise ValueError(f"group column {group!r} not in data (columns: {', '.join(map(str, data.columns))})")
    used = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", formula)) & set(data.columns)
    frame = data.loc[data[group].notna(), sorted(used) + ([] if group in used else [group])]
    kinds = {}
    for c in used:
        if pd.api.types.is_bool_dtype(frame[c]):
            kinds[c] = float  # a 0/1 outcome (is_correct) is a number here, not a two-level factor
        elif frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c]):
            kinds[c] = "category"  # the same levels patsy would sort, built without a per-row Python loop
    frame = frame.astype(kinds)
    try:
        y, X = patsy.dmatrices(formula, frame, return_type="dataframe")
    except Exception as exc:  # patsy's errors name the bad term; pass them on as a user error
        raise ValueError(f"cannot build {formula!r}: {str(exc).splitlines()[0]}") from None
    if y.shape[1] != 1:
        raise ValueError(f"the response of {formula!r} must be one numeric column")
    codes, labels = pd.factorize(frame.loc[y.index, group])
    return _Design(
        y=y.to_numpy(float)[:, 0],
        X=X.to_numpy(float),
        names=list(X.columns),
        groups=codes.astype(np.int64),
        group_labels=[str(x) for x in labels],
    )


def _statsmodels_default(data: pd.DataFrame, formula: str, group: str, reml: bool) -> dict[str, Any]:
    """What statsmodels' default fit reports, kept beside ours so a disagreement is visible."""
    import statsmodels.formula.api as smf

    frame = data.dropna(subset=[group])
    frame = frame.astype({c: float for c in frame.columns if pd.api.types.is_bool_dtype(frame[c])})
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


def fit_mixedlm(
    data: pd.DataFrame, formula: str, group: str, reml: bool = True, check_statsmodels: bool = True
) -> MixedLMResult:
    """Fit `formula + (1|group)` by REML (default) or ML, as lme4 does.

    `check_statsmodels` also runs statsmodels' default fit and keeps what it reported beside ours
    (skipped above 20,000 rows, where it is slow).
    """
    d = _design(data, formula, group)
    k = len(d.group_labels)
    if d.n <= d.p:
        raise ValueError(f"{d.n} observations cannot fit {d.p} fixed effects")
    if k < 2:
        raise ValueError(f"a random effect needs at least 2 groups; {group!r} has {k}")
    if k >= d.n:
        raise ValueError(f"every {group!r} has one observation: the group and residual variances cannot be told apart")
    if np.ptp(d.y) == 0:
        raise ValueError(f"the response of {formula!r} is constant: there is no variance to decompose")
    if np.linalg.matrix_rank(d.X) < d.p:
        raise ValueError(f"the fixed-effect design of {formula!r} is rank deficient")
    profile = _Profile(d, reml)
    theta, converged = _maximise(profile)
    fit = profile.solve(theta)
    at_zero = profile.loglik(0.0)
    sigma2 = fit["sigma2"]
    if sigma2 < 1e-8 * profile.tss / d.n:
        raise ValueError(
            f"the residual variance vanishes as the {group!r} variance grows: within-group values are "
            "constant (up to the fixed effects), so the likelihood has no maximum"
        )
    cov = sigma2 * np.linalg.inv(fit["XVX"])
    conditional_modes = fit["w"] * (profile.sy - profile.sx @ fit["beta"])
    sizes = {lab: int(c) for lab, c in zip(d.group_labels, profile.n_i)}
    notes = []
    singles = sum(1 for s in sizes.values() if s == 1)
    if singles:
        notes.append(f"{singles} of {k} groups have a single member")
    if not converged:
        notes.append("the optimizer did not report convergence")
    check = None
    if check_statsmodels:
        check = (
            _statsmodels_default(data, formula, group, reml)
            if d.n <= STATSMODELS_CHECK_MAX_N
            else {"skipped": f"n = {d.n} > {STATSMODELS_CHECK_MAX_N}"}
        )
    return MixedLMResult(
        formula=formula,
        group=group,
        method="REML" if reml else "ML",
        n=d.n,
        n_groups=k,
        group_sizes=sizes,
        fe_params={name: float(v) for name, v in zip(d.names, fit["beta"])},
        bse={name: float(math.sqrt(v)) for name, v in zip(d.names, np.diag(cov))},
        cov_fe=cov.tolist(),
        group_var=float(sigma2 * theta * theta),
        resid_var=float(sigma2),
        theta=theta,
        loglik=float(fit["loglik"]),
        loglik_without=float(at_zero),
        random_effects={lab: float(v) for lab, v in zip(d.group_labels, conditional_modes)},
        converged=converged,
        warnings=notes,
        statsmodels_check=check,
    )
