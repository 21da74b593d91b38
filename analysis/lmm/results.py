"""A fitted mixed model: the figures, and their renderings (console as lmerTest/lme4 print, LaTeX, JSON).

`fixed` is a DataFrame indexed by term (estimate, se, df, statistic, p); df is ∞ for Wald z tests.
`random` lists variance components as lme4's `as.data.frame(VarCorr(m))` does. The legacy keys of the
JSON (n_groups, group_var, resid_var, icc) describe one grouping factor, `group`: the one named by
--group, else the first random term's, as lme4 orders terms (most levels first).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..format import jsonable, num, p_value, p_value_latex, tex

LOGISTIC_VARIANCE = math.pi**2 / 3  # the latent residual of a logit model, for a binomial ICC


@dataclass
class MixedModelResult:
    formula: str
    family: str  # gaussian | binomial
    method: str  # REML | ML | Laplace
    df_method: str  # satterthwaite | kenward-roger | z
    nobs: int
    fixed: pd.DataFrame
    vcov: pd.DataFrame
    random: list[dict[str, Any]]
    sigma: float | None
    theta: np.ndarray
    loglik: float
    npar: int
    singular: bool
    converged: bool
    groups: dict[str, int]  # grouping factor → number of levels, in lme4's term order
    group_sizes: dict[str, dict[str, int]]
    ranef: dict[str, pd.DataFrame]
    group: str
    loglik_without: float | None = None  # the same model without its (single) random term
    warnings: list[str] = field(default_factory=list)

    # ---- figures -------------------------------------------------------------------------------------
    @property
    def deviance(self) -> float:
        """−2 log-likelihood: the REML criterion under REML, as lme4's summary prints it."""
        return -2.0 * self.loglik

    @property
    def aic(self) -> float:
        """As R's AIC(m): −2 logLik + 2 npar, of the fitted method (REML included)."""
        return -2.0 * self.loglik + 2 * self.npar

    @property
    def bic(self) -> float:
        return -2.0 * self.loglik + math.log(self.nobs) * self.npar

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Wald intervals estimate ± q·se, q from t with each term's df (normal where df is ∞)."""
        q = stats.t.ppf(0.5 + level / 2, self.fixed["df"].to_numpy())
        half = q * self.fixed["se"].to_numpy()
        est = self.fixed["estimate"].to_numpy()
        return pd.DataFrame({"lower": est - half, "upper": est + half}, index=self.fixed.index)

    def variance(self, group: str, term: str = "(Intercept)") -> float | None:
        for r in self.random:
            if r["group"] == group and r.get("term") == term and "variance" in r:
                return r["variance"]
        return None

    @property
    def n_groups(self) -> int:
        return self.groups[self.group]

    @property
    def group_var(self) -> float | None:
        return self.variance(self.group)

    @property
    def resid_var(self) -> float | None:
        return self.sigma**2 if self.sigma is not None else None

    @property
    def icc(self) -> float | None:
        """group_var over all intercept variances plus the residual (π²/3 on the logit scale)."""
        if self.group_var is None:
            return None
        intercepts = sum(r["variance"] for r in self.random if r.get("term") == "(Intercept)" and "variance" in r)
        residual = self.resid_var if self.family == "gaussian" else LOGISTIC_VARIANCE
        total = intercepts + residual
        return self.group_var / total if total > 0 else None

    @property
    def lrt(self) -> dict[str, Any] | None:
        """LR test of a single random term against the model without it; the statistic's null
        distribution is ½χ²₀ + ½χ²₁ (a variance on the boundary, Self & Liang 1987)."""
        if self.loglik_without is None:
            return None
        stat = max(0.0, 2.0 * (self.loglik - self.loglik_without))
        p = 0.5 * float(stats.chi2.sf(stat, 1)) if stat > 0 else 1.0
        return {
            "stat": stat,
            "df": 1,
            "p_value": p,
            "loglik_without": self.loglik_without,
            "reference": "0.5*chi2(0) + 0.5*chi2(1)",
        }

    # ---- legacy views (the contract's first keys) ----------------------------------------------------
    @property
    def n(self) -> int:
        return self.nobs

    @property
    def fe_params(self) -> dict[str, float]:
        return self.fixed["estimate"].to_dict()

    @property
    def bse(self) -> dict[str, float]:
        return self.fixed["se"].to_dict()

    @property
    def pvalues(self) -> dict[str, float]:
        return self.fixed["p"].to_dict()

    @property
    def reml_loglik(self) -> float | None:
        return self.loglik if self.method == "REML" else None

    @property
    def n_single_member_groups(self) -> int:
        return sum(1 for s in self.group_sizes[self.group].values() if s == 1)

    # ---- renderings ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        ci = self.conf_int()
        fixed = {
            term: {k: row[k] for k in ("estimate", "se", "df", "statistic", "p")} for term, row in self.fixed.iterrows()
        }
        intercepts = self.ranef.get(self.group)
        return jsonable(
            {
                "formula": self.formula,
                "family": self.family,
                "method": self.method,
                "df_method": self.df_method,
                "nobs": self.nobs,
                "n": self.nobs,
                "fixed": fixed,
                "random": self.random,
                "loglik": self.loglik,
                "reml_loglik": self.reml_loglik,
                "deviance": self.deviance,
                "aic": self.aic,
                "bic": self.bic,
                "npar": self.npar,
                "singular": self.singular,
                "converged": self.converged,
                "groups": self.groups,
                "group": self.group,
                "group_var_definition": (
                    f"variance of the (Intercept) of {self.group}"
                    + ("" if self.family == "gaussian" else "; icc on the logit scale (residual π²/3)")
                ),
                "n_groups": self.n_groups,
                "n_single_member_groups": self.n_single_member_groups,
                "group_var": self.group_var,
                "resid_var": self.resid_var,
                "sigma": self.sigma,
                "icc": self.icc,
                "fe_params": self.fe_params,
                "bse": self.bse,
                "pvalues": self.pvalues,
                "conf_int": {t: [r.lower, r.upper] for t, r in ci.iterrows()},
                "cov_fe": self.vcov.to_numpy().tolist(),
                "theta": self.theta,
                "lrt_random_effect": self.lrt,
                "random_effects": (
                    intercepts["(Intercept)"].to_dict()
                    if intercepts is not None and "(Intercept)" in intercepts
                    else None
                ),
                "warnings": self.warnings,
            }
        )

    def _fixed_header(self) -> tuple[str, str]:
        if self.df_method == "z":
            return "z value", "Pr(>|z|)"
        return "t value", "Pr(>|t|)"

    def fixed_table(self) -> list[str]:
        stat, pname = self._fixed_header()
        show_df = self.df_method != "z"
        head = (
            f"{'':<22}{'Estimate':>12}{'Std. Error':>12}" + (f"{'df':>10}" if show_df else "") + f"{stat:>9}{pname:>11}"
        )
        lines = [head]
        for term, r in self.fixed.iterrows():
            line = f"{term:<22}{r.estimate:>12.4g}{r.se:>12.4g}"
            if show_df:
                line += f"{r.df:>10.2f}"
            lines.append(line + f"{r.statistic:>9.3f}{_p_cell(r.p):>11}")
        return lines

    def random_table(self) -> list[str]:
        lines = [f"{'Groups':<14}{'Name':<16}{'Variance':>12}{'Std.Dev.':>10}  Corr"]
        by_group: dict[str, list[dict]] = {}
        for r in self.random:
            if r["group"] != "Residual":
                by_group.setdefault(r["group"], []).append(r)
        for group, rows in by_group.items():
            variances = [r for r in rows if "variance" in r]
            corr = {(r["term"], r["term2"]): r["correlation"] for r in rows if "covariance" in r}
            for i, r in enumerate(variances):
                name = r.get("term", "")
                cells = [f"{corr.get((v['term'], name), float('nan')):.2f}" for v in variances[:i]]
                lines.append(
                    f"{group if i == 0 else '':<14}{name:<16}{r['variance']:>12.5g}{math.sqrt(r['variance']):>10.4g}"
                    + ("  " + " ".join(cells) if cells else "")
                )
        return lines

    def summary(self) -> str:
        df_text = {
            "satterthwaite": "t-tests use Satterthwaite's method (lmerTest)",
            "kenward-roger": "t-tests use Kenward-Roger's method (pbkrtest)",
            "z": "Wald z tests",
        }[self.df_method]
        kind = "Linear mixed model" if self.family == "gaussian" else "Generalized linear mixed model (binomial, logit)"
        fit_by = {"REML": "REML", "ML": "maximum likelihood", "Laplace": "maximum likelihood (Laplace approximation)"}
        lines = [
            f"{kind} fit by {fit_by[self.method]}; {df_text}",
            f"Formula: {self.formula}",
            "",
            (
                f"REML criterion at convergence: {self.deviance:.4f}"
                if self.method == "REML"
                else f"     AIC      BIC   logLik deviance\n{self.aic:>8.2f} {self.bic:>8.2f} {self.loglik:>8.3f} {self.deviance:>8.3f}"
            ),
            "",
            "Random effects:",
            *("  " + x for x in self.random_table()),
        ]
        if self.sigma is not None:
            lines.append(f"  {'Residual':<14}{'':<16}{self.sigma**2:>12.5g}{self.sigma:>10.4g}")
        lines.append(
            "Number of obs: " + str(self.nobs) + ", groups:  " + ", ".join(f"{g}, {k}" for g, k in self.groups.items())
        )
        lines += ["", "Fixed effects:", *("  " + x for x in self.fixed_table())]
        if self.singular:
            lines.append("boundary (singular) fit: see help('isSingular')")
        if not self.converged:
            lines.append("WARNING: the optimizer did not report convergence")
        for w in self.warnings:
            lines.append(f"note: {w}")
        return "\n".join(lines)

    def latex(self) -> str:
        stat, _ = self._fixed_header()
        show_df = self.df_method != "z"
        ci = self.conf_int()
        rows = []
        for term, r in self.fixed.iterrows():
            lo, hi = ci.loc[term]
            rows.append(
                f"{tex(term)} & {r.estimate:.4f} & {r.se:.4f} & "
                + (f"{r.df:.1f} & " if show_df else "")
                + f"{r.statistic:.2f} & {_p_tex(r.p)} & [{lo:.3f}, {hi:.3f}] \\\\"
            )
        comps = "; ".join(
            f"$\\sigma^2_{{\\mathrm{{{tex(r['group'])}}}}}$ ({tex(r['term'])}) $= {r['variance']:.4g}$"
            for r in self.random
            if "variance" in r and r["group"] != "Residual"
        )
        if self.sigma is not None:
            comps += f"; $\\sigma^2 = {self.sigma**2:.4g}$"
        icc = self.icc
        note = (
            f"{self.method}; {comps}"
            + (f"; ICC ({tex(self.group)}) $= {num(icc)}$" if icc is not None else "")
            + f"; {self.nobs} obs., "
            + ", ".join(f"{k} {tex(g)}" for g, k in self.groups.items())
            + ("; singular fit" if self.singular else "")
        )
        ncol = 6 + show_df
        head_df = " & df" if show_df else ""
        return "\n".join(
            [
                r"\begin{tabular}{l" + "r" * (ncol - 1) + "}",
                r"\hline",
                rf"Term & Estimate & SE{head_df} & ${stat.split()[0]}$ & $p$ & 95\% CI \\",
                r"\hline",
                *rows,
                r"\hline",
                rf"\multicolumn{{{ncol}}}{{l}}{{{note}}} \\",
                r"\hline",
                r"\end{tabular}",
            ]
        )


def _p_cell(p: float) -> str:
    return p_value(p)


def _p_tex(p: float) -> str:
    return p_value_latex(p)
