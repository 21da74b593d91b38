"""Does a model-level effect survive once models from the same lab are not counted as independent?

The seed's reviewer response, generalised: a per-model metric (long form, as `marts.model_metrics`)
compared between the two levels of a binary predictor (default `is_flagship`):
  1. the naive view — Cohen's d with the pooled SD and Student's t-test (plus Welch's), every model
     independent;
  2. `metric ~ predictor + (1|lab)` by lme4-exact REML on all models and on named sensitivity subsets;
     or, for a binary outcome (`lab_effects_binomial`: correctness on the instance mart), the binomial
     GLMM `accuracy ~ predictor + (1|lab) + (1|model) + (1|problem_id)` as glmer fits it;
  3. the correlation of pairs of metrics (Pearson, Spearman) over models that have both;
  4. a LaTeX paragraph whose every claim is computed from the numbers above (singular only when the
     fit is, "robust" only when no subset changes the sign or the 5% significance of the effect).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .format import jsonable, num, p_text, tex
from .mixedlm import MixedLMResult, fit_mixedlm

ALPHA = 0.05


@dataclass(frozen=True)
class Subset:
    """A sensitivity subset: the data without some models and/or categories."""

    name: str
    exclude_models: tuple[str, ...] = ()
    exclude_categories: tuple[str, ...] = ()

    @property
    def description(self) -> str:
        parts = []
        if self.exclude_models:
            parts.append(", ".join(self.exclude_models))
        if self.exclude_categories:
            parts.append(" and ".join(f"{c} models" for c in self.exclude_categories))
        return "excluding " + " and ".join(parts) if parts else "all models"


def exclude_model(names: str) -> Subset:
    """`--exclude-model "o3-mini,DeepSeek R1"`: one subset without those models."""
    models = tuple(n.strip() for n in names.split(",") if n.strip())
    return Subset("no_" + "_".join(_slug(m) for m in models), exclude_models=models)


def exclude_category(names: str) -> Subset:
    categories = tuple(n.strip() for n in names.split(",") if n.strip())
    return Subset("no_" + "_".join(_slug(c) for c in categories), exclude_categories=categories)


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text.lower()).strip("_")


@dataclass
class NaiveComparison:
    """Every model independent: the comparison a reviewer objects to, kept for contrast."""

    level_1_mean: float
    level_0_mean: float
    level_1_n: int
    level_0_n: int
    pooled_sd: float
    cohens_d: float
    t_stat: float
    df: int
    p_value: float
    welch_t: float
    welch_p: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SubsetFit:
    subset: Subset
    models_excluded: list[str]
    fit: MixedLMResult
    predictor: str
    n_models: int = 0  # models in the subset (the fit's observations for a per-model metric)

    @property
    def effect(self) -> float:
        return self.fit.fe_params[self.predictor]

    @property
    def se(self) -> float:
        return self.fit.bse[self.predictor]

    @property
    def p_value(self) -> float:
        return self.fit.pvalues[self.predictor]

    @property
    def ci(self) -> tuple[float, float]:
        lo, hi = self.fit.conf_int().loc[self.predictor]
        return float(lo), float(hi)

    @property
    def t(self) -> float:
        return float(self.fit.fixed.loc[self.predictor, "statistic"])

    @property
    def df(self) -> float:
        return float(self.fit.fixed.loc[self.predictor, "df"])

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.ci
        return {
            "name": self.subset.name,
            "description": self.subset.description,
            "models_excluded": self.models_excluded,
            "n_models": self.n_models or self.fit.n,
            "n_labs": self.fit.n_groups,
            "n_single_model_labs": self.fit.n_single_member_groups,
            "effect": self.effect,
            "se": self.se,
            "t": self.t,
            "df": self.df,
            "p_value": self.p_value,
            "ci_low": lo,
            "ci_high": hi,
            "lab_var": self.fit.group_var,
            "resid_var": self.fit.resid_var,
            "icc": self.fit.icc,
            "singular": self.fit.singular,
            "converged": self.fit.converged,
            "lrt_random_effect": self.fit.lrt,
            "mixedlm": self.fit.to_dict(),
        }


@dataclass
class Correlation:
    metric_x: str
    metric_y: str
    n: int
    pearson_r: float
    pearson_p: float
    spearman_rho: float
    spearman_p: float
    models_dropped: list[str]

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class LabEffectsResult:
    metric: str
    predictor: str
    group: str
    method: str
    naive: NaiveComparison
    fits: list[SubsetFit]  # the first is all models
    correlations: list[Correlation] = field(default_factory=list)
    formula: str = ""  # the mixed model as fitted; a per-model metric's is `value ~ predictor + (1|group)`

    @property
    def primary(self) -> SubsetFit:
        return self.fits[0]

    @property
    def sensitivity(self) -> list[SubsetFit]:
        return self.fits[1:]

    def changed_by(self) -> list[SubsetFit]:
        """Subsets whose effect differs in sign or in significance at 5% from the primary fit."""
        base = self.primary
        return [
            s
            for s in self.sensitivity
            if np.sign(s.effect) != np.sign(base.effect) or (s.p_value < ALPHA) != (base.p_value < ALPHA)
        ]

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "analysis": "lab_effects",
                "metric": self.metric,
                "predictor": self.predictor,
                "group": self.group,
                "method": self.method,
                "formula": self.model_formula,
                "naive": self.naive.to_dict(),
                "mixed_effects": {f.subset.name: f.to_dict() for f in self.fits},
                "robust_to_subsets": not self.changed_by(),
                "changed_by": [f.subset.name for f in self.changed_by()],
                "correlations": [c.to_dict() for c in self.correlations],
                "latex": self.latex(),
            }
        )

    @property
    def model_formula(self) -> str:
        return self.formula or f"value ~ {self.predictor} + (1|{self.group})"

    def summary(self) -> str:
        nv = self.naive
        lines = [
            "=" * 78,
            f" LAB EFFECTS: {self.metric}: {self.model_formula}   [{self.method}]",
            "=" * 78,
            "",
            "1. Naive comparison (every model independent)",
            f"   {self.predictor}=1: mean {nv.level_1_mean:.4f} (n={nv.level_1_n})   "
            f"{self.predictor}=0: mean {nv.level_0_mean:.4f} (n={nv.level_0_n})",
            f"   Cohen's d = {nv.cohens_d:.3f} (pooled SD {nv.pooled_sd:.4f})",
            f"   Student t({nv.df}) = {nv.t_stat:.3f}, p = {nv.p_value:.3e};  Welch t = {nv.welch_t:.3f}, p = {nv.welch_p:.3e}",
            "",
            f"2. Mixed model, random intercept per {self.group}",
            f"   {'subset':<34}{'n':>4}{'labs':>5}{'effect':>10}{'SE':>9}{'p':>11}   {'95% CI':<19}{'ICC':>7}  fit",
        ]
        for f in self.fits:
            lo, hi = f.ci
            status = "singular" if f.fit.singular else ("ok" if f.fit.converged else "NOT CONVERGED")
            lines.append(
                f"   {f.subset.description[:33]:<34}{f.n_models or f.fit.n:>4}{f.fit.n_groups:>5}{f.effect:>10.4f}{f.se:>9.4f}"
                f"{f.p_value:>11.3e}   [{lo:.4f}, {hi:.4f}]{f.fit.icc:>7.3f}  {status}"
            )
        p = self.primary
        residual = "logistic (π²/3)" if p.fit.resid_var is None else f"{p.fit.resid_var:.6g}"
        lrt = (
            f"; LRT of the lab effect {p.fit.lrt['stat']:.3f}, {p_text(p.fit.lrt['p_value'])} (½χ²₀ + ½χ²₁)"
            if p.fit.lrt
            else ""
        )
        lines += [
            f"   lab variance {p.fit.group_var:.6g}, residual variance {residual}{lrt}",
            f"   {p.fit.n_single_member_groups} of {p.fit.n_groups} labs contribute a single model",
            "   "
            + (
                f"changed by: {', '.join(f.subset.description for f in self.changed_by())}"
                if self.changed_by()
                else "no sensitivity subset changes the sign or the 5% significance of the effect"
            ),
        ]
        if self.correlations:
            lines += ["", "3. Correlation of metrics (models with both)"]
            for c in self.correlations:
                lines.append(
                    f"   {c.metric_x} vs {c.metric_y}: n={c.n}, Pearson r = {c.pearson_r:.4f} (p = {c.pearson_p:.3e}), "
                    f"Spearman ρ = {c.spearman_rho:.4f} (p = {c.spearman_p:.3e})"
                    + (f"; dropped {', '.join(c.models_dropped)}" if c.models_dropped else "")
                )
        lines.append("=" * 78)
        return "\n".join(lines)

    def latex(self) -> str:
        return _paragraph(self)


# ---- computing -------------------------------------------------------------------------------------


def naive_comparison(values: pd.Series, level: pd.Series) -> NaiveComparison:
    a = values[level == 1].to_numpy(float)
    b = values[level == 0].to_numpy(float)
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"each level of the predictor needs at least 2 models (have {len(a)} and {len(b)})")
    n1, n2 = len(a), len(b)
    pooled = math.sqrt(((n1 - 1) * a.var(ddof=1) + (n2 - 1) * b.var(ddof=1)) / (n1 + n2 - 2))
    if not pooled > 1e-12 * max(1.0, abs(a.mean()), abs(b.mean())):
        raise ValueError(
            f"{values.name or 'the metric'} does not vary within the levels of the predictor; "
            "there is nothing to compare"
        )
    student = stats.ttest_ind(a, b, equal_var=True)
    welch = stats.ttest_ind(a, b, equal_var=False)
    return NaiveComparison(
        level_1_mean=float(a.mean()),
        level_0_mean=float(b.mean()),
        level_1_n=n1,
        level_0_n=n2,
        pooled_sd=pooled,
        cohens_d=float((a.mean() - b.mean()) / pooled) if pooled > 0 else float("nan"),
        t_stat=float(student.statistic),
        df=n1 + n2 - 2,
        p_value=float(student.pvalue),
        welch_t=float(welch.statistic),
        welch_p=float(welch.pvalue),
    )


def correlate(wide: pd.DataFrame, x: str, y: str) -> Correlation:
    for m in (x, y):
        if m not in wide.columns:
            raise ValueError(f"no metric {m!r} to correlate (have: {', '.join(sorted(wide.columns))})")
    both = wide[[x, y]].dropna()
    if len(both) < 3:
        raise ValueError(f"{x} and {y} are both present for only {len(both)} models; a correlation needs 3")
    pr = stats.pearsonr(both[x], both[y])
    sr = stats.spearmanr(both[x], both[y])
    dropped = sorted(set(wide.index) - set(both.index))
    return Correlation(
        x,
        y,
        len(both),
        float(pr.statistic),
        float(pr.pvalue),
        float(sr.statistic),
        float(sr.pvalue),
        [str(m) for m in dropped],
    )


def _names(frame: pd.DataFrame) -> pd.DataFrame:
    """Lower-cased names each model answers to: id, name as given, display name."""
    cols = [c for c in ("model", "model_as_given", "display_name") if c in frame.columns]
    return frame[cols].astype("string").apply(lambda s: s.str.lower())


def _excluded(frame: pd.DataFrame, subset: Subset) -> pd.Series:
    from evalhouse.registry import resolve

    names = _names(frame)
    out = pd.Series(False, index=frame.index)
    for given in subset.exclude_models:
        wanted = {given.lower(), (resolve(given) or given).lower()}
        hit = names.isin(wanted).any(axis=1)
        if not hit.any():
            raise ValueError(
                f"--exclude-model {given!r}: no such model in the data "
                f"(models: {', '.join(sorted(frame['model'].astype(str)))})"
            )
        out |= hit
    for category in subset.exclude_categories:
        hit = frame["category"].astype("string").str.lower() == category.lower()
        if not hit.any():
            raise ValueError(
                f"--exclude-category {category!r}: no model has that category "
                f"(categories: {', '.join(sorted(frame['category'].dropna().astype(str).unique()))})"
            )
        out |= hit.fillna(False)
    return out


def lab_effects(
    metrics: pd.DataFrame,
    metric: str,
    subsets: list[Subset] = (),
    correlations: list[tuple[str, str]] = (),
    predictor: str = "is_flagship",
    group: str = "lab",
    reml: bool = True,
) -> LabEffectsResult:
    """Run the whole analysis on long-form metrics (`model, lab, category, is_flagship, metric, value`)."""
    missing = {"model", "metric", "value", group, predictor} - set(metrics.columns)
    if missing:
        raise ValueError(f"metrics lack column(s) {', '.join(sorted(missing))}")
    available = sorted(metrics["metric"].dropna().unique())
    frame = metrics[(metrics["metric"] == metric) & metrics["value"].notna()].reset_index(drop=True)
    if frame.empty:
        raise ValueError(f"no values for metric {metric!r} (metrics: {', '.join(available) or 'none'})")
    levels = set(frame[predictor].dropna().unique())
    if not levels <= {0, 1} or len(levels) < 2:
        raise ValueError(
            f"{predictor} must take the values 0 and 1 (has {', '.join(map(str, sorted(levels))) or 'none'})"
        )
    frame = frame.dropna(subset=[group])
    naive = naive_comparison(frame["value"].rename(metric), frame[predictor])
    fits = []
    for subset in [Subset("all"), *subsets]:
        drop = _excluded(frame, subset)
        fit = fit_mixedlm(frame[~drop], f"value ~ {predictor}", group, reml=reml)
        fits.append(SubsetFit(subset, sorted(frame.loc[drop, "model"].astype(str)), fit, predictor))
    wide = metrics.pivot_table(index="model", columns="metric", values="value", aggfunc="first")
    corr = [correlate(wide, x, y) for x, y in correlations]
    return LabEffectsResult(metric, predictor, group, "REML" if reml else "ML", naive, fits, corr)


def lab_effects_binomial(
    instances: pd.DataFrame,
    models: pd.DataFrame,
    subsets: list[Subset] = (),
    predictor: str = "is_flagship",
    group: str = "lab",
) -> LabEffectsResult:
    """The same question for a binary outcome: is a response correct more often for models with the
    predictor, once models of one lab and answers to one instance are not counted as independent?

    `instances`: one row per model × problem instance × arm (marts.acc_model_arm_instance, filtered as the
    caller likes); `models`: one row per model with its lab, category and the predictor (marts.models).
    The GLMM `accuracy ~ predictor [+ arm] + (1|lab) + (1|model) + (1|problem_id)` takes each model ×
    instance × arm as one trial with its mean correctness (the instance is the unit, as in Code vs NL); the
    naive comparison is the t-test of the models' accuracies."""
    from .lmm import fit

    wanted = [c for c in ("model", group, "category", predictor, "display_name") if c in models.columns]
    frame = instances.drop(columns=[c for c in (group, "category", predictor) if c in instances.columns])
    frame = frame[frame["n"] > 0].merge(models[wanted], on="model", how="inner")
    if frame.empty:
        raise ValueError("no answered responses of models the registry describes")
    levels = set(frame[predictor].dropna().unique())
    if not levels <= {0, 1} or len(levels) < 2:
        raise ValueError(f"{predictor} must take the values 0 and 1 among these models (has {sorted(levels)})")
    frame = frame.dropna(subset=[group, predictor]).assign(trials=1.0)
    frame["accuracy"] = frame["n_correct"] / frame["n"]
    per_model = frame.groupby("model").agg(k=("n_correct", "sum"), n=("n", "sum"), level=(predictor, "first"))
    naive = naive_comparison((per_model["k"] / per_model["n"]).rename("accuracy"), per_model["level"])
    arms = ["arm"] if frame["arm"].nunique() > 1 else []
    formula = " + ".join(
        ["cbind(accuracy, trials - accuracy) ~ " + predictor, *arms, f"(1|{group})", "(1|model)", "(1|problem_id)"]
    )
    fits = []
    for subset in [Subset("all"), *subsets]:
        drop = _excluded(frame, subset)
        part = frame[~drop]
        result = fit(formula, part, family="binomial", group=group)
        excluded = sorted(frame.loc[drop, "model"].astype(str).unique())
        fits.append(SubsetFit(subset, excluded, result, predictor, n_models=part["model"].nunique()))
    metric = "accuracy" + (f" ({', '.join(sorted(frame['arm'].unique()))})" if not arms else "")
    return LabEffectsResult(metric, predictor, group, "Laplace", naive, fits, [], formula)


# ---- the LaTeX paragraph: every claim decided by a number --------------------------------------------


def _strength(r: float) -> str:
    a = abs(r)
    word = "negligibly" if a < 0.1 else "weakly" if a < 0.3 else "moderately" if a < 0.5 else "strongly"
    return word + (" positively" if r > 0 else " negatively" if r < 0 else "")


def _estimate(f: SubsetFit) -> str:
    lo, hi = f.ci
    return (
        f"$\\hat{{\\beta}} = {f.effect:.3f}$ ($SE = {f.se:.3f}$, $t({f.df:.1f}) = {f.t:.2f}$, "
        f"{_p(f.p_value)}, 95\\% CI $[{lo:.3f},\\, {hi:.3f}]$)"
    )


def _p(p: float) -> str:
    return "$" + p_text(p) + "$"


def _paragraph(r: LabEffectsResult) -> str:
    p, nv = r.primary, r.naive
    pred, grp, metric = tex(r.predictor), tex(r.group), tex(r.metric)
    method = {
        "REML": "restricted maximum likelihood (REML)",
        "ML": "maximum likelihood (ML)",
        "Laplace": "maximum likelihood with the Laplace approximation (a binomial GLMM)",
    }[r.method]
    significant = p.p_value < ALPHA
    same_direction = np.sign(p.effect) == np.sign(nv.level_1_mean - nv.level_0_mean)
    lines = [
        r"\subsection*{Mixed-Effects Model Robustness Check}",
        "",
        f"Models from the same {grp} share training infrastructure, which violates the independence assumed",
        f"by the naive effect size. We therefore fit the mixed-effects model \\texttt{{{metric} $\\sim$ {pred} + (1|{grp})}}",
        f"by {method}, maximising the profiled criterion as \\texttt{{lme4}} does, with a random intercept",
        f"for each of {p.fit.n_groups} {grp}s over {p.n_models or p.fit.n} models.",
        "",
        r"\paragraph{Primary result.}",
        f"The fixed effect of {pred} was {_estimate(p)}.",
        f"For comparison, the naive independent-samples Cohen's $d = {nv.cohens_d:.2f}$"
        f" ($t({nv.df}) = {nv.t_stat:.2f}$, {_p(nv.p_value)}).",
    ]
    if p.fit.singular:
        lines.append(
            f"The {grp} variance was estimated at zero (a singular fit on the boundary of the parameter space),"
            f" so $\\mathrm{{ICC}} = 0$ and the estimate coincides with ordinary least squares."
        )
    elif p.fit.lrt:
        lines.append(
            f"The estimated intra-class correlation for {grp} was $\\mathrm{{ICC}} = {num(p.fit.icc)}$"
            f" (likelihood-ratio test of the {grp} variance: $\\chi^2_{{0:1}} = {p.fit.lrt['stat']:.2f}$,"
            f" {_p(p.fit.lrt['p_value'])})."
        )
    else:
        lines.append(f"The estimated intra-class correlation for {grp} was $\\mathrm{{ICC}} = {num(p.fit.icc)}$.")
    if p.fit.n_single_member_groups:
        lines.append(
            f"{_count(p.fit.n_single_member_groups)} of {_count(p.fit.n_groups, lower=True)} {grp}s contribute a single model,"
            f" so for them {grp} and residual deviations cannot be told apart; the {grp} variance rests on the"
            f" other {p.fit.n_groups - p.fit.n_single_member_groups}."
        )
    if significant and same_direction:
        lines.append(
            f"The effect keeps its direction and remains significant at the 5\\% level after accounting for"
            f" {grp}-level clustering."
        )
    elif significant:
        lines.append(
            f"After accounting for {grp}-level clustering the effect is significant but reverses the naive direction."
        )
    else:
        lines.append(
            f"After accounting for {grp}-level clustering the effect is no longer significant at the 5\\% level."
        )
    if r.sensitivity:
        lines += ["", r"\paragraph{Sensitivity checks.}"]
        for f in r.sensitivity:
            status = " (a singular fit)" if f.fit.singular else ""
            lines.append(
                f"{_sentence(tex(f.subset.description))} ({f.n_models or f.fit.n} models) yielded {_estimate(f)}{status}."
            )
        changed = r.changed_by()
        if not changed:
            lines.append("No exclusion changes the sign or the 5\\% significance of the effect.")
        else:
            lines.append(
                "The conclusion changes when "
                + "; ".join(tex(f.subset.description) for f in changed)
                + ", so it depends on those models."
            )
    for c in r.correlations:
        x, y = tex(c.metric_x), tex(c.metric_y)
        verdict = "significant" if c.pearson_p < ALPHA else "not significant"
        lines += [
            "",
            rf"\paragraph{{{x}--{y} association.}}",
            f"Among the {c.n} models with both {x} and {y}, the two metrics are {_strength(c.pearson_r)} correlated"
            f" (Pearson $r = {c.pearson_r:.3f}$, {_p(c.pearson_p)}; Spearman $\\rho = {c.spearman_rho:.3f}$,"
            f" {_p(c.spearman_p)}); the linear association is {verdict} at the 5\\% level.",
        ]
    return "\n".join(lines)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]


def _count(k: int, lower: bool = False) -> str:
    word = _WORDS[k] if k < len(_WORDS) else str(k)
    return word if lower else word.capitalize()


# ---- loading -------------------------------------------------------------------------------------------

DESCRIPTIVE = ("model", "lab", "category", "is_flagship", "display_name", "model_as_given")


def load_metrics(source: str = "marts.model_metrics", warehouse_path=None) -> pd.DataFrame:
    """Long-form metrics from the warehouse mart (display names included) or from a CSV/Parquet file,
    long (`metric`, `value` columns) or wide (one numeric column per metric, as the seed's table)."""
    from .sources import load_frame

    frame = load_frame(source, warehouse_path=warehouse_path)
    if {"metric", "value"} <= set(frame.columns):
        return frame
    if "is_flagship" not in frame.columns and "category" in frame.columns:
        frame["is_flagship"] = (frame["category"] == "flagship").astype(int)
    values = [c for c in frame.columns if c not in DESCRIPTIVE and pd.api.types.is_numeric_dtype(frame[c])]
    ids = [c for c in DESCRIPTIVE if c in frame.columns]
    return frame.melt(id_vars=ids, value_vars=values, var_name="metric", value_name="value")
