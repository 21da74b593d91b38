"""Code vs NL (the scale-up plan's Phases 3–4): accuracy with instance-bootstrap intervals, paired tests
per model, repeated-measures ANOVAs, effect sizes and the plan's success / failure / ambiguous verdict.

Input is one row per model × problem instance × arm with its replicate counts (`marts.acc_model_arm_instance`,
or `instances_from_responses` of one row per response): `model, problem_id, kind, digit, arm, n,
n_correct` (and `lab`). The problem instance is the unit of every inference:
- accuracy is Σ correct / Σ answered (as the marts), its interval a bootstrap of instances within
  kind × digit;
- a model's treatment − control difference is the mean over the instances it answered under both arms
  of the instance's accuracy difference (each instance's accuracy is its mean correctness over its
  replicates); Wilcoxon, paired t, McNemar, d_z and Cohen's h all use those per-instance values;
- the ANOVAs have the instance as the subject stratum.
Copying every response under k more seeds multiplies `n` and `n_correct` by k and leaves every p-value
and interval unchanged (a property test checks this over every test reported here).

The primary effect is the binomial GLMM `accuracy ~ arm + (1|model) + (1|problem_id)` (analysis/arm_glmm.py:
log-odds and odds ratio of the treatment against the control, every kind pooled and per kind, the instance
again the unit). Every test is also given long (`tests`: one row per scope × test, uniform columns).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from evalhouse.vocabulary import arm_order

from . import bootstrap
from .anova import Anova, split_plot, within_two_way
from .arm_glmm import R_EQUIVALENT as GLMM_R_EQUIVALENT
from .arm_glmm import arm_glmm
from .criteria import Criteria, Verdict, evaluate
from .format import jsonable, num, p_value, p_value_latex, tex
from .instances import ALL_MODELS, check_instances, instances_from_responses
from .paired import (
    adjust,
    cohens_dz,
    cohens_h,
    mcnemar_instances,
    paired_t,
    pooled_dz,
    wilcoxon_signed_rank,
)

__all__ = [
    "ALL_MODELS",
    "AccuracyResult",
    "CodeVsNLResult",
    "accuracy",
    "code_vs_nl",
    "instances_from_responses",
]

UNIT = "problem instance (problem_id); replicates (seeds, samples) averaged within it"
TEST_COLUMNS = [
    "scope",  # a model id, or ALL_MODELS
    "kind",  # "all", or a kind for a per-kind test
    "test",  # wilcoxon | paired_t | mcnemar_exact | mcnemar_durkalski (a GLMM adds e.g. glmm_arm)
    "unit",
    "n_units",
    "estimate",
    "estimate_label",
    "ci_low",
    "ci_high",
    "statistic",
    "statistic_label",
    "df",
    "p",
    "p_bonferroni",
    "p_holm",
    "r_equivalent",
]
METHODS = {
    "unit": UNIT,
    "accuracy": "Σ correct / Σ answered responses (as the marts)",
    "delta": "mean over paired instances of (treatment accuracy − control accuracy) of the instance",
    "bootstrap": "percentile 95% interval; Rao–Wu rescaled bootstrap of instances within kind × digit"
    " (n − 1 draws of n, weight n/(n − 1)); survey::as.svrepdesign(type = 'subbootstrap') in R",
    "wilcoxon": "Wilcoxon signed-rank on per-instance differences: wilcox.test(x, y, paired = TRUE)"
    " (V; exact below 50 non-zero differences without ties or zeros, else normal with continuity"
    " and tie correction)",
    "paired_t": "paired t-test on per-instance differences: t.test(x, y, paired = TRUE)",
    "mcnemar_exact": "exact McNemar on instances when each instance is one binary pair: binom.test(b, b + c)",
    "mcnemar_durkalski": "clustered McNemar, Durkalski et al. (2003), X² = (Σ dᵢ)² / Σ dᵢ² over instances:"
    " clust.bin.pair(ak, bk, ck, dk, method = 'durkalski')",
    "cohens_dz": "mean per-instance difference / SD of the differences, per model; pooled over models with"
    " the within-model SD (differences centred on their model's mean)",
    "cohens_h": "2·asin(√p_t) − 2·asin(√p_c) on the paired instances' mean accuracies",
    "adjustment": "Bonferroni and Holm over the tested models, per test",
    "glmm_arm": "binomial GLMM with crossed random intercepts, Laplace approximation as glmer (nAGQ = 1), Wald z;"
    " each model × instance × arm one trial with its mean correctness: " + GLMM_R_EQUIVALENT,
    "anova_model_arm": "repeated measures, instance as subject: aov(y ~ model*arm + Error(problem_id/(model*arm)))"
    " on per-instance accuracy, instances complete for every tested model and both arms",
    "anova_model_kind_delta": "split plot, instance as subject: aov(d ~ model*kind + Error(problem_id/model))"
    " on per-instance differences",
    "p_values": "floats in JSON (0.0 only where a double underflows); printed as '< 1e-300' below 1e-300",
}


@dataclass
class CodeVsNLResult:
    """Everything Phases 3–4 report. Tables are DataFrames; `to_dict()`, `summary()`, `latex()` render."""

    treatment: str
    control: str
    n_boot: int
    seed: int
    n_responses: int
    n_instances: int
    labs: dict[str, str]
    accuracy: pd.DataFrame  # model × arm × kind (+ All models rows)
    accuracy_by_arm: pd.DataFrame  # model × arm (+ All models rows)
    accuracy_by_digit: pd.DataFrame  # model × arm × digit (+ All models rows)
    delta: pd.DataFrame  # model × kind (+ 'all' kinds, + All models): mean per-instance difference, bootstrap CI
    glmm: pd.DataFrame  # the primary effect: one row per scope ('all', each kind), arm_glmm.GLMM_COLUMNS
    paired: pd.DataFrame  # one row per tested model: accuracies, delta, CI, effect sizes, every test
    tests: pd.DataFrame  # the same tests long: one row per scope × test (TEST_COLUMNS)
    anova: Anova | None  # model × arm, both within instance
    interaction: Anova | None  # model (within) × kind (between instance) on per-instance differences
    instances_per_model: pd.DataFrame  # model, n_treatment, n_control, n_paired
    pooled_cohens_d: float  # d_z over every tested model with the within-model SD
    pooled_cohens_h: float
    notes: list[str] = field(default_factory=list)
    criteria: Criteria = field(default_factory=Criteria)

    @cached_property
    def verdict(self) -> Verdict:
        kinds = self.delta[(self.delta["model"] == ALL_MODELS) & (self.delta["kind"] != "all")]
        inter = self.interaction.p("model:kind") if self.interaction is not None else None
        return evaluate(self.criteria, self.paired, kinds, self.pooled_cohens_d, inter)

    @property
    def models(self) -> list[str]:
        """Every model with responses; `paired` holds those that have both arms."""
        return sorted(self.labs)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "analysis": "code_vs_nl",
                "treatment": self.treatment,
                "control": self.control,
                "unit": UNIT,
                "methods": METHODS,
                "n_responses": self.n_responses,
                "n_instances": self.n_instances,
                "bootstrap": _bootstrap_dict(self.n_boot, self.seed),
                "labs": self.labs,
                "glmm": self.glmm.to_dict(orient="records"),
                "paired": self.paired.to_dict(orient="records"),
                "tests": self.tests.to_dict(orient="records"),
                "pooled_cohens_d": self.pooled_cohens_d,
                "pooled_cohens_h": self.pooled_cohens_h,
                "accuracy_by_arm": self.accuracy_by_arm.to_dict(orient="records"),
                "accuracy": self.accuracy.to_dict(orient="records"),
                "accuracy_by_digit": self.accuracy_by_digit.to_dict(orient="records"),
                "delta": self.delta.to_dict(orient="records"),
                "anova_model_arm": None if self.anova is None else self.anova.to_dict(),
                "anova_model_kind_delta": None if self.interaction is None else self.interaction.to_dict(),
                "instances_per_model": self.instances_per_model.to_dict(orient="records"),
                "notes": self.notes,
                "criteria": self.verdict.to_dict(),
            }
        )

    def summary(self) -> str:
        t, c = self.treatment, self.control
        m = len(self.paired)
        lines = [
            "=" * 110,
            f" {t.upper()} vs {c.upper()}: {self.n_responses:,} responses, {self.n_instances:,} instances,"
            f" {len(self.models)} models",
            f" Unit of every test and interval: the {UNIT}.",
            f" Intervals: {self.n_boot} Rao–Wu bootstrap resamples of instances within kind × digit (seed {self.seed}).",
            "=" * 110,
            "",
            *_arm_table_lines(self.accuracy_by_arm, self.models),
            "",
            *_glmm_lines(self.glmm, t, c),
            "",
            f"Paired {t} − {c} per model over instances with both arms (adjusted over {m} models)",
            "  Wilcoxon: wilcox.test(x, y, paired = TRUE), V = sum of positive ranks; t: t.test(x, y, paired = TRUE);",
            "  McNemar: exact (binom.test) where each instance is one binary pair, else clustered"
            " (Durkalski 2003, X² over instances); b/c = instances where the treatment / control did better.",
            f"  {'model':<34}{'inst':>6}{'Δ':>8}{'95% CI':>18}{'d_z':>7}{'h':>7}{'V':>9}{'Wilcoxon p':>12}"
            f"{'Holm':>10}{'t p':>10}{'b/c':>11}{'McNemar':>10}{'p':>10}",
        ]
        for r in self.paired.itertuples():
            lines.append(
                f"  {r.model[:33]:<34}{r.n_instances:>6}{r.delta:>+8.3f}"
                f"  [{r.delta_ci_low:+.3f}, {r.delta_ci_high:+.3f}]{num(r.cohens_dz, 2):>7}{num(r.cohens_h, 2):>7}"
                f"{r.wilcoxon_v:>9g}{p_value(r.wilcoxon_p):>12}{p_value(r.wilcoxon_p_holm):>10}"
                f"{p_value(r.t_p):>10}{f'{r.mcnemar_b}/{r.mcnemar_c}':>11}{r.mcnemar_test:>10}"
                f"{p_value(r.mcnemar_p):>10}"
            )
        lines.append(
            f"  pooled over models: d_z = {num(self.pooled_cohens_d, 3)} (within-model SD),"
            f" h = {num(self.pooled_cohens_h, 3)}"
        )
        kinds = self.delta[self.delta["model"] == ALL_MODELS]
        lines += ["", f"{t} − {c} by kind (all models, mean per-instance difference, paired instances)"]
        for r in kinds.itertuples():
            lines.append(
                f"  {r.kind:<16}{r.delta:>+8.3f}  [{r.ci_low:+.3f}, {r.ci_high:+.3f}]"
                f"  model × instance pairs {r.n_instances}"
            )
        for title, table in (
            (f"Repeated-measures ANOVA: model × arm ({t}, {c}) within instance", self.anova),
            (f"Split-plot ANOVA of per-instance {t} − {c}: model (within) × kind (between instance)", self.interaction),
        ):
            lines += ["", title]
            lines += _anova_lines(table)
        if self.notes:
            lines += ["", "Notes", *[f"  - {n}" for n in self.notes]]
        lines += ["", self.verdict.summary(), "=" * 110]
        return "\n".join(lines)

    def latex(self) -> str:
        t, c = tex(self.treatment), tex(self.control)
        test_rows = [
            f"{tex(r.model)} & {r.n_instances} & {r.delta:+.3f} [{r.delta_ci_low:+.3f}, {r.delta_ci_high:+.3f}] & "
            f"{num(r.cohens_dz, 2)} & {num(r.cohens_h, 2)} & {p_value_latex(r.wilcoxon_p)} & "
            f"{p_value_latex(r.wilcoxon_p_holm)} & {p_value_latex(r.t_p)} & {r.mcnemar_b}/{r.mcnemar_c} & "
            f"{p_value_latex(r.mcnemar_p)}{'' if r.mcnemar_test == 'exact' else DAGGER} \\\\"
            for r in self.paired.itertuples()
        ]
        return "\n".join(
            [
                _arm_table_latex(self.accuracy_by_arm, self.models, self.n_boot),
                "",
                _glmm_latex(self.glmm, self.treatment, self.control),
                "",
                r"\begin{table}[t]",
                r"\centering",
                r"\small",
                r"\begin{tabular}{lrcrrrrrrr}",
                r"\hline",
                rf"Model & Inst. & $\Delta$ ({t}$-${c}) [95\% CI] & $d_z$ & $h$ & Wilcoxon $p$ & Holm $p$ & $t$ $p$"
                r" & $b/c$ & McNemar $p$ \\",
                r"\hline",
                *test_rows,
                r"\hline",
                r"\end{tabular}",
                rf"\caption{{Paired {t} vs {c} per model; the unit is the problem instance (its accuracy over"
                r" its replicates). $\Delta$: mean per-instance difference with a 95\% bootstrap interval over"
                r" instances. Wilcoxon signed-rank (R's \texttt{wilcox.test}, paired) and paired $t$ on the"
                r" per-instance differences, Holm-adjusted over"
                rf" {len(self.paired)} models; McNemar exact on instances ($b$, $c$: instances where {t}, {c}"
                r" did better), $^\dagger$ clustered McNemar (Durkalski et al.\ 2003) where instances have"
                r" several replicates. $d_z$ within model; pooled $d_z ="
                rf" {num(self.pooled_cohens_d, 2)}$, $h = {num(self.pooled_cohens_h, 2)}$.}}",
                r"\end{table}",
                "",
                *_anova_latex(
                    self.anova, f"Repeated-measures ANOVA of per-instance accuracy, model $\\times$ arm ({t}, {c})"
                ),
                *_anova_latex(self.interaction, f"Split-plot ANOVA of per-instance {t}$-${c}, model $\\times$ kind"),
                self.verdict.latex(),
            ]
        )


DAGGER = r"$^\dagger$"


def _glmm_lines(glmm: pd.DataFrame, t: str, c: str) -> list[str]:
    lines = [
        f"Primary effect: binomial GLMM, {t} against {c} (log-odds, odds ratio; Wald 95% intervals)",
        f"  {GLMM_R_EQUIVALENT}",
        f"  {'kind':<16}{'models':>7}{'inst':>7}{'log-odds':>10}{'95% CI':>19}{'OR':>8}{'95% CI':>18}{'z':>8}"
        f"{'p':>11}{'σ²model':>9}{'σ²inst':>9}",
    ]
    for r in glmm.itertuples():
        if not math.isfinite(r.log_odds):
            lines.append(f"  {r.kind:<16}{r.n_models:>7}{r.n_instances:>7}  {r.note}")
            continue
        lines.append(
            f"  {r.kind:<16}{r.n_models:>7}{r.n_instances:>7}{r.log_odds:>+10.3f}  [{r.ci_low:+.3f}, {r.ci_high:+.3f}]"
            f"{r.odds_ratio:>8.2f}  [{r.or_ci_low:.2f}, {r.or_ci_high:.2f}]{r.z:>8.2f}{p_value(r.p):>11}"
            f"{num(r.model_variance, 3):>9}{num(r.instance_variance, 3):>9}" + (f"  ({r.note})" if r.note else "")
        )
    return lines


def _glmm_latex(glmm: pd.DataFrame, treatment: str, control: str) -> str:
    t, c = tex(treatment), tex(control)
    rows = [
        f"{tex(r.kind)} & {r.n_models} & {r.n_instances} & {r.log_odds:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}] & "
        f"{r.odds_ratio:.2f} [{r.or_ci_low:.2f}, {r.or_ci_high:.2f}] & {r.z:.2f} & {p_value_latex(r.p)} \\\\"
        for r in glmm.itertuples()
        if math.isfinite(r.log_odds)
    ]
    return "\n".join(
        [
            r"\begin{table}[t]",
            r"\centering",
            r"\small",
            r"\begin{tabular}{lrrccrr}",
            r"\hline",
            r"Kind & Models & Inst. & Log-odds [95\% CI] & Odds ratio [95\% CI] & $z$ & $p$ \\",
            r"\hline",
            *rows,
            r"\hline",
            r"\end{tabular}",
            rf"\caption{{{t} against {c}: binomial GLMM with crossed random intercepts for model and problem"
            r" instance (Laplace approximation, as \texttt{glmer}); each model $\times$ instance $\times$ arm is"
            r" one trial with its mean correctness over its replicates. Wald 95\% intervals.}",
            r"\end{table}",
        ]
    )


def _bootstrap_dict(n_boot: int, seed: int) -> dict[str, Any]:
    return {
        "n_boot": n_boot,
        "seed": seed,
        "cluster": "problem_id",
        "strata": "kind x digit",
        "scheme": "Rao-Wu rescaled (n - 1 draws of n instances per stratum)",
        "interval": "percentile 95%",
        "min_instances_per_cell": bootstrap.MIN_INSTANCES,
    }


def _anova_lines(table: Anova | None) -> list[str]:
    if table is None:
        return ["  not computed (needs two models with both arms on two or more common instances, and two kinds)"]
    lines = [f"  {table.formula} on {table.n_subjects:,} instances ({table.n_dropped:,} incomplete left out)"]
    for stratum, rows in table.table.groupby("stratum", sort=False):
        lines.append(f"  Error: {stratum}")
        for r in rows.itertuples():
            f = "" if pd.isna(r.F) else f"F = {r.F:>10.3f}   p = {p_value(r.p)}"
            lines.append(f"    {r.term:<14} df = {r.df:>8.0f}   SS = {r.sum_sq:>12.4f}   {f}")
    return lines


def _anova_latex(table: Anova | None, title: str) -> list[str]:
    if table is None:
        return []
    rows = [
        f"{tex(r.stratum)} & {tex(r.term)} & {r.df:.0f} & {r.sum_sq:.4f} & "
        + ("" if pd.isna(r.F) else f"{r.F:.3f} & {p_value_latex(r.p)}")
        + (" & " if pd.isna(r.F) else "")
        + r" \\"
        for r in table.table.itertuples()
    ]
    return [
        r"\begin{table}[t]",
        r"\centering",
        r"\small",
        r"\begin{tabular}{llrrrr}",
        r"\hline",
        r"Error stratum & Term & df & SS & $F$ & $p$ \\",
        r"\hline",
        *rows,
        r"\hline",
        r"\end{tabular}",
        rf"\caption{{{title}; the problem instance is the subject ({table.n_subjects} instances,"
        rf" {table.n_dropped} incomplete left out): R's \texttt{{{tex(table.formula)}}}.}}",
        r"\end{table}",
        "",
    ]


def _arms_of(frame: pd.DataFrame) -> list[str]:
    return arm_order(frame["arm"])


def _cell(table: pd.DataFrame, model: str, arm: str, empty: str) -> str:
    if (model, arm) not in table.index:
        return empty
    r = table.loc[(model, arm)]
    return f"{r['accuracy']:.3f} [{r['ci_low']:.3f}, {r['ci_high']:.3f}]"


def _arm_table_lines(accuracy_by_arm: pd.DataFrame, models: list[str]) -> list[str]:
    arms = _arms_of(accuracy_by_arm)
    table = accuracy_by_arm.set_index(["model", "arm"])
    lines = [
        "Accuracy by arm (all kinds), 95% bootstrap CI over instances",
        f"  {'model':<36}" + "".join(f"{a:>24}" for a in arms),
    ]
    for model in [*models, ALL_MODELS]:
        lines.append(f"  {model[:35]:<36}" + "".join(f"{_cell(table, model, a, '—'):>24}" for a in arms))
    return lines


def _arm_table_latex(accuracy_by_arm: pd.DataFrame, models: list[str], n_boot: int) -> str:
    arms = _arms_of(accuracy_by_arm)
    table = accuracy_by_arm.set_index(["model", "arm"])
    rows = [f"{tex(m)} & " + " & ".join(_cell(table, m, a, "--") for a in arms) + r" \\" for m in [*models, ALL_MODELS]]
    return "\n".join(
        [
            r"\begin{table}[t]",
            r"\centering",
            r"\small",
            r"\begin{tabular}{l" + "c" * len(arms) + "}",
            r"\hline",
            "Model & " + " & ".join(tex(a) for a in arms) + r" \\",
            r"\hline",
            *rows,
            r"\hline",
            r"\end{tabular}",
            rf"\caption{{Accuracy by arm with 95\% bootstrap intervals ({n_boot} Rao--Wu resamples of problem"
            r" instances, stratified by kind and digit; the instance is the unit).}",
            r"\end{table}",
        ]
    )


@dataclass
class AccuracyResult:
    """Accuracy with instance-bootstrap intervals, for data without a Code/NL pair (any arms)."""

    n_boot: int
    seed: int
    n_responses: int
    n_instances: int
    labs: dict[str, str]
    accuracy: pd.DataFrame
    accuracy_by_arm: pd.DataFrame
    accuracy_by_digit: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def models(self) -> list[str]:
        return sorted(self.labs)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "analysis": "accuracy",
                "unit": UNIT,
                "n_responses": self.n_responses,
                "n_instances": self.n_instances,
                "bootstrap": _bootstrap_dict(self.n_boot, self.seed),
                "labs": self.labs,
                "accuracy_by_arm": self.accuracy_by_arm.to_dict(orient="records"),
                "accuracy": self.accuracy.to_dict(orient="records"),
                "accuracy_by_digit": self.accuracy_by_digit.to_dict(orient="records"),
                "notes": self.notes,
            }
        )

    def summary(self) -> str:
        return "\n".join(
            [
                f"{self.n_responses:,} responses, {self.n_instances:,} instances, {len(self.models)} models"
                f" (unit: the {UNIT})",
                "",
                *_arm_table_lines(self.accuracy_by_arm, self.models),
                *(["", "Notes", *[f"  - {n}" for n in self.notes]] if self.notes else []),
            ]
        )

    def latex(self) -> str:
        return _arm_table_latex(self.accuracy_by_arm, self.models, self.n_boot)


# ---- the design --------------------------------------------------------------------------------------


@dataclass
class _Design:
    """The instances as dense arrays: n and n_correct by model × arm × instance (instances sorted by id)."""

    models: list[str]
    arms: list[str]
    kinds: list[str]
    digits: np.ndarray  # distinct digits, sorted
    n: np.ndarray  # (M, A, I) responses that came back
    k: np.ndarray  # (M, A, I) of those, correct
    inst_kind: np.ndarray  # (I,) index into kinds
    inst_digit: np.ndarray  # (I,) index into digits
    labs: dict[str, str]
    n_responses: int

    @property
    def n_instances(self) -> int:
        return self.n.shape[2]

    @property
    def cells(self) -> tuple[np.ndarray, int]:
        """Each instance's design cell (kind × digit), and how many cells there are."""
        return self.inst_kind * len(self.digits) + self.inst_digit, len(self.kinds) * len(self.digits)

    def bootstrap(self, values: np.ndarray, n_boot: int, seed: int) -> tuple[np.ndarray, np.ndarray, str | None]:
        """Per-cell sums of `values` and their replicates, resampling instances within kind × digit (small
        cells merged); and a note when cells were merged."""
        cell, n_cells = self.cells
        sizes = np.bincount(cell, minlength=n_cells)
        strata = bootstrap.merge_small_strata(sizes, np.arange(n_cells) // len(self.digits))
        obs, reps = bootstrap.cell_sums(values, cell, n_cells, n_boot, seed, strata=strata)
        merged = int(np.sum((sizes > 0) & (np.bincount(strata, minlength=n_cells)[strata] > 1)))
        note = None
        if merged:
            note = (
                f"{merged} of {int((sizes > 0).sum())} kind × digit cells hold fewer than {bootstrap.MIN_INSTANCES}"
                " instances and are resampled together (within their kind, else with every small cell)"
            )
        return obs, reps, note


def _design(instances: pd.DataFrame) -> _Design:
    rows = check_instances(instances)
    m, models = pd.factorize(rows["model"].astype(str), sort=True)
    a_found, arm_values = pd.factorize(rows["arm"].astype(str))
    arms = arm_order(arm_values)
    a = pd.Index(arms).get_indexer(arm_values)[a_found]  # codes in the arms' canonical order
    i, problem_ids = pd.factorize(rows["problem_id"].astype(str), sort=True)
    k_code, kinds = pd.factorize(rows["kind"].astype(str), sort=True)
    digit = rows["digit"].fillna(0).to_numpy(np.int64)
    digits = np.unique(digit)
    d_code = np.searchsorted(digits, digit)
    n_inst = len(problem_ids)
    inst_kind = np.zeros(n_inst, dtype=np.int64)
    inst_kind[i] = k_code
    inst_digit = np.zeros(n_inst, dtype=np.int64)
    inst_digit[i] = d_code
    clash = (inst_kind[i] != k_code) | (inst_digit[i] != d_code)
    if clash.any():
        pid = problem_ids[i[np.flatnonzero(clash)[0]]]
        raise ValueError(f"problem_id {pid} has more than one kind or digit: an instance has one of each")
    shape = (len(models), len(arms), n_inst)
    n = np.zeros(shape)
    k = np.zeros(shape)
    n[m, a, i] = rows["n"].to_numpy(float)
    k[m, a, i] = rows["n_correct"].to_numpy(float)
    return _Design(
        list(models),
        arms,
        list(kinds),
        digits,
        n,
        k,
        inst_kind,
        inst_digit,
        _labs(rows, list(models)),
        int(n.sum()),
    )


def _labs(rows: pd.DataFrame, models: list[str]) -> dict[str, str]:
    known = {}
    if "lab" in rows.columns:
        known = rows.dropna(subset=["lab"]).drop_duplicates("model").set_index("model")["lab"].to_dict()
    return {m: str(known.get(m) or m.split("/")[0]) for m in models}


def _per_cell(x: np.ndarray, cells: np.ndarray, n_cells: int) -> np.ndarray:
    """(C, R) sums over the instances of each cell of x (R × I)."""
    onehot = sparse.csr_matrix((np.ones(len(cells)), (np.arange(len(cells)), cells)), shape=(len(cells), n_cells))
    return np.asarray((sparse.csr_matrix(x) @ onehot).todense()).T


def _answered_per_cell(design: _Design, answered: np.ndarray) -> np.ndarray:
    """(C, (M+1)·A): instances answered per cell by each model × arm, then by any model per arm."""
    cell, n_cells = design.cells
    M, A, I = answered.shape  # noqa: E741 (models, arms, instances)
    per_model = _per_cell(answered.reshape(M * A, I), cell, n_cells)
    any_model = _per_cell(answered.max(axis=0), cell, n_cells)
    return np.concatenate([per_model, any_model], axis=1)


def _small_intervals(tables: dict[str, pd.DataFrame], merged: str | None) -> list[str]:
    """Notes (and one SmallCellWarning) for intervals that rest on fewer than MIN_INSTANCES instances, and
    for the small cells resampled together."""
    notes = [merged] if merged else []
    small = {
        name: t[(t["n_instances"] > 0) & (t["n_instances"] < bootstrap.MIN_INSTANCES)] for name, t in tables.items()
    }
    n_small = sum(len(t) for t in small.values())
    if n_small:
        name, worst = min(
            ((n, t.loc[t["n_instances"].idxmin()]) for n, t in small.items() if len(t)),
            key=lambda x: x[1]["n_instances"],
        )
        where = ", ".join(f"{worst[c]}" for c in worst.index if c in ("model", "arm", "kind", "digit"))
        notes.append(
            f"{n_small} of {sum(len(t) for t in tables.values())} intervals rest on fewer than"
            f" {bootstrap.MIN_INSTANCES} instances (fewest: {int(worst['n_instances'])}, {name} {where});"
            " they cover less than 95%"
        )
    if notes:
        warnings.warn("; ".join(notes), bootstrap.SmallCellWarning, stacklevel=3)
    return notes


# ---- the analyses ------------------------------------------------------------------------------------


def accuracy(instances: pd.DataFrame, n_boot: int = bootstrap.N_BOOT, seed: int = 0) -> AccuracyResult:
    """Accuracy per model × arm (× kind, × digit, pooled) with instance-bootstrap intervals, any arms."""
    d = _design(instances)
    M, A, I = len(d.models), len(d.arms), d.n_instances  # noqa: E741 (models, arms, instances)
    answered = (d.n > 0).astype(float)
    values = np.vstack([d.k.reshape(M * A, I), d.n.reshape(M * A, I)])
    obs, reps, merged = d.bootstrap(values, n_boot, seed)
    acc = _accuracy_tables(d, obs, reps, _answered_per_cell(d, answered))
    notes = _small_intervals({f"accuracy by {level}": acc[level] for level in ("arm", "kind", "digit")}, merged)
    return AccuracyResult(n_boot, seed, d.n_responses, I, d.labs, acc["kind"], acc["arm"], acc["digit"], notes)


def code_vs_nl(
    instances: pd.DataFrame,
    treatment: str = "code",
    control: str = "nl",
    n_boot: int = bootstrap.N_BOOT,
    seed: int = 0,
    criteria: Criteria | None = None,
    glmm: bool = True,
) -> CodeVsNLResult:
    """Run Phases 3–4 on one row per model × problem instance × arm (`n`, `n_correct` over its replicates).
    `glmm=False` leaves out the GLMM (its fit is the slowest step on millions of responses)."""
    d = _design(instances)
    for arm in (treatment, control):
        if arm not in d.arms:
            raise ValueError(f"no responses in arm {arm!r} (arms: {', '.join(d.arms)})")
    ti, ci = d.arms.index(treatment), d.arms.index(control)
    M, A, I = len(d.models), len(d.arms), d.n_instances  # noqa: E741 (models, arms, instances)
    answered = (d.n > 0).astype(float)

    # Per-instance accuracies and paired differences (model × instance).
    paired_mask = (d.n[:, ti] > 0) & (d.n[:, ci] > 0)
    if not paired_mask.any():
        raise ValueError(f"no {treatment}/{control} pairs: no instance has both arms for the same model")
    with np.errstate(invalid="ignore", divide="ignore"):
        acc_t = np.where(paired_mask, d.k[:, ti] / d.n[:, ti], 0.0)
        acc_c = np.where(paired_mask, d.k[:, ci] / d.n[:, ci], 0.0)
    diff = acc_t - acc_c

    # Bootstrap over instances within kind × digit, all statistics at once.
    values = np.vstack([d.k.reshape(M * A, I), d.n.reshape(M * A, I), diff, paired_mask.astype(float)])
    obs, reps, merged = d.bootstrap(values, n_boot, seed)
    acc = _accuracy_tables(d, obs, reps, _answered_per_cell(d, answered))
    delta = _delta_table(d, obs[:, 2 * M * A :], reps[:, :, 2 * M * A :])
    notes = _small_intervals(
        {
            **{f"accuracy by {level}": acc[level] for level in ("arm", "kind", "digit")},
            f"{treatment} − {control}": delta,
        },
        merged,
    )

    tested = [mi for mi in range(M) if paired_mask[mi].any()]
    paired = _paired_table(d, tested, paired_mask, acc_t, acc_c, delta)
    rows = [np.flatnonzero(paired_mask[mi]) for mi in tested]
    pooled_d = pooled_dz(
        np.concatenate([diff[mi, r] for mi, r in zip(tested, rows)]), np.repeat(tested, list(map(len, rows)))
    )
    pooled_h = cohens_h(
        float(np.concatenate([acc_t[mi, r] for mi, r in zip(tested, rows)]).mean()),
        float(np.concatenate([acc_c[mi, r] for mi, r in zip(tested, rows)]).mean()),
    )

    anova, interaction = _anovas(d, tested, paired_mask, acc_t, acc_c, diff, (ti, ci))
    for table, what in ((anova, "model × arm"), (interaction, "model × kind")):
        if table is not None and table.n_dropped:
            notes.append(
                f"ANOVA {what}: {table.n_dropped:,} instances lack a tested model's {treatment}/{control} pair"
                f" and are left out (repeated measures need complete instances); {table.n_subjects:,} used"
            )

    glmm_table = arm_glmm(check_instances(instances), treatment, control) if glmm else _no_glmm()
    return CodeVsNLResult(
        treatment=treatment,
        control=control,
        n_boot=n_boot,
        seed=seed,
        n_responses=d.n_responses,
        n_instances=I,
        labs=d.labs,
        accuracy=acc["kind"],
        accuracy_by_arm=acc["arm"],
        accuracy_by_digit=acc["digit"],
        delta=delta,
        glmm=glmm_table,
        paired=paired,
        tests=pd.concat([_glmm_tests(glmm_table), _tests_long(paired)], ignore_index=True),
        anova=anova,
        interaction=interaction,
        instances_per_model=pd.DataFrame(
            {
                "model": d.models,
                "n_treatment": (d.n[:, ti] > 0).sum(axis=1),
                "n_control": (d.n[:, ci] > 0).sum(axis=1),
                "n_paired": paired_mask.sum(axis=1),
            }
        ),
        pooled_cohens_d=pooled_d,
        pooled_cohens_h=pooled_h,
        notes=notes,
        criteria=criteria or Criteria(),
    )


def _paired_table(
    d: _Design,
    tested: list[int],
    paired_mask: np.ndarray,
    acc_t: np.ndarray,
    acc_c: np.ndarray,
    delta: pd.DataFrame,
) -> pd.DataFrame:
    """One row per tested model: the paired instances' accuracies, Δ with its bootstrap CI, d_z, h, and
    the Wilcoxon, paired t and McNemar tests on the per-instance values."""
    model_delta = delta[delta["kind"] == "all"].set_index("model")
    rows = []
    for mi in tested:
        model = d.models[mi]
        inst = np.flatnonzero(paired_mask[mi])
        t, c = acc_t[mi, inst], acc_c[mi, inst]
        diffs = t - c
        w, tt, mc = wilcoxon_signed_rank(diffs), paired_t(diffs), mcnemar_instances(t, c)
        md = model_delta.loc[model]
        rows.append(
            {
                "model": model,
                "lab": d.labs[model],
                "n_instances": len(inst),
                "accuracy_treatment": float(t.mean()),
                "accuracy_control": float(c.mean()),
                "delta": float(diffs.mean()),
                "delta_ci_low": md["ci_low"],
                "delta_ci_high": md["ci_high"],
                "cohens_dz": cohens_dz(diffs),
                "cohens_h": cohens_h(float(t.mean()), float(c.mean())),
                "wilcoxon_v": w.statistic,
                "wilcoxon_n_nonzero": w.n_nonzero,
                "wilcoxon_exact": w.exact,
                "wilcoxon_p": w.p_value,
                "wilcoxon_p_greater": w.p_greater,
                "t_statistic": tt.statistic,
                "t_df": tt.df,
                "t_ci_low": tt.ci_low,
                "t_ci_high": tt.ci_high,
                "t_p": tt.p_value,
                "mcnemar_test": mc.test,
                "mcnemar_b": mc.treatment_better,
                "mcnemar_c": mc.control_better,
                "mcnemar_statistic": mc.statistic,
                "mcnemar_p": mc.p_value,
            }
        )
    paired = pd.DataFrame(rows)
    for test in ("wilcoxon", "t", "mcnemar"):
        for method in ("bonferroni", "holm"):
            paired[f"{test}_p_{method}"] = adjust(paired[f"{test}_p"].tolist(), method)
    return paired


def _no_glmm() -> pd.DataFrame:
    from .arm_glmm import GLMM_COLUMNS

    return pd.DataFrame(columns=GLMM_COLUMNS)


def _glmm_tests(glmm: pd.DataFrame) -> pd.DataFrame:
    """The GLMM's arm coefficient per scope, as rows of TEST_COLUMNS."""
    rows = [
        {
            "scope": ALL_MODELS,
            "kind": r.kind,
            "test": "glmm_arm",
            "unit": "model × instance (crossed random intercepts; replicates averaged)",
            "n_units": r.n_obs,
            "estimate": r.log_odds,
            "estimate_label": "log-odds ratio (Wald CI)",
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
            "statistic": r.z,
            "statistic_label": "z",
            "df": np.inf,
            "p": r.p,
            "p_bonferroni": np.nan,
            "p_holm": np.nan,
            "r_equivalent": GLMM_R_EQUIVALENT,
        }
        for r in glmm.itertuples()
    ]
    return pd.DataFrame(rows, columns=TEST_COLUMNS)


def _tests_long(paired: pd.DataFrame) -> pd.DataFrame:
    """The per-model tests as rows of TEST_COLUMNS (a GLMM's rows fit beside them)."""
    rows = []
    for r in paired.itertuples():
        common = {"scope": r.model, "kind": "all", "unit": "instance", "n_units": r.n_instances}
        rows += [
            common
            | {
                "test": "wilcoxon",
                "estimate": r.delta,
                "estimate_label": "mean per-instance difference (bootstrap CI)",
                "ci_low": r.delta_ci_low,
                "ci_high": r.delta_ci_high,
                "statistic": r.wilcoxon_v,
                "statistic_label": "V",
                "df": np.nan,
                "p": r.wilcoxon_p,
                "p_bonferroni": r.wilcoxon_p_bonferroni,
                "p_holm": r.wilcoxon_p_holm,
                "r_equivalent": "wilcox.test(x, y, paired = TRUE)",
            },
            common
            | {
                "test": "paired_t",
                "estimate": r.delta,
                "estimate_label": "mean per-instance difference (t CI)",
                "ci_low": r.t_ci_low,
                "ci_high": r.t_ci_high,
                "statistic": r.t_statistic,
                "statistic_label": "t",
                "df": r.t_df,
                "p": r.t_p,
                "p_bonferroni": r.t_p_bonferroni,
                "p_holm": r.t_p_holm,
                "r_equivalent": "t.test(x, y, paired = TRUE)",
            },
            common
            | {
                "test": f"mcnemar_{r.mcnemar_test}",
                "estimate": np.nan,
                "estimate_label": "",
                "ci_low": np.nan,
                "ci_high": np.nan,
                "statistic": r.mcnemar_statistic,
                "statistic_label": "b" if r.mcnemar_test == "exact" else "X2",
                "df": np.nan if r.mcnemar_test == "exact" else 1.0,
                "p": r.mcnemar_p,
                "p_bonferroni": r.mcnemar_p_bonferroni,
                "p_holm": r.mcnemar_p_holm,
                "r_equivalent": "binom.test(b, b + c)"
                if r.mcnemar_test == "exact"
                else "clust.bin.pair(ak, bk, ck, dk, method = 'durkalski')",
            },
        ]
    return pd.DataFrame(rows, columns=TEST_COLUMNS)


def _anovas(
    d: _Design,
    tested: list[int],
    paired_mask: np.ndarray,
    acc_t: np.ndarray,
    acc_c: np.ndarray,
    diff: np.ndarray,
    arm_index: tuple[int, int],
) -> tuple[Anova | None, Anova | None]:
    """Model × arm (repeated measures) and model × kind on the differences (split plot), on the instances
    every tested model answered under both arms; None without two models or two such instances."""
    if len(tested) < 2:
        return None, None
    rows = paired_mask[tested]
    complete = rows.all(axis=0)
    dropped = int((rows.any(axis=0) & ~complete).sum())
    if complete.sum() < 2:
        return None, None
    # arms in presentation order, as R would order the factor's levels (the sums of squares do not depend on it)
    by_arm = {arm_index[0]: acc_t[tested][:, complete], arm_index[1]: acc_c[tested][:, complete]}
    y = np.stack([by_arm[a] for a in sorted(by_arm)], axis=-1).transpose(1, 0, 2)  # (instances, models, arms)
    anova = within_two_way(y, ("model", "arm"), n_dropped=dropped)
    kinds = d.inst_kind[complete]
    interaction = None
    if len(np.unique(kinds)) >= 2:
        interaction = split_plot(
            diff[tested][:, complete].T, np.array(d.kinds)[kinds], ("model", "kind"), n_dropped=dropped
        )
    return anova, interaction


def _interval_frame(num: np.ndarray, den: np.ndarray, num_b: np.ndarray, den_b: np.ndarray) -> dict[str, np.ndarray]:
    lo, hi = bootstrap.percentile_interval(bootstrap.ratio(num_b, den_b))
    return {"value": bootstrap.ratio(num, den), "ci_low": lo, "ci_high": hi}


def _accuracy_tables(d: _Design, obs: np.ndarray, reps: np.ndarray, answered: np.ndarray) -> dict[str, pd.DataFrame]:
    """Accuracy with CIs for model × arm by kind, overall and by digit; `All models` pools every model.

    `obs` (S, R) and `reps` (B, S, R) hold the stratum sums whose first 2·M·A rows are n_correct and n;
    `answered` (S, (M+1)·A) counts the instances answered per stratum by each model × arm, then by any model."""
    M, A = len(d.models), len(d.arms)
    R = M * A
    K, D = len(d.kinds), len(d.digits)
    k_obs, n_obs = obs[:, :R].reshape(K, D, R), obs[:, R : 2 * R].reshape(K, D, R)
    k_rep, n_rep = reps[:, :, :R].reshape(-1, K, D, R), reps[:, :, R : 2 * R].reshape(-1, K, D, R)
    i_obs = answered.reshape(K, D, (M + 1) * A)

    def with_all(x: np.ndarray) -> np.ndarray:
        """Append the pooled 'All models' rows: (…, M*A) → (…, (M+1)*A)."""
        shaped = x.reshape(*x.shape[:-1], M, A)
        return np.concatenate([shaped, shaped.sum(axis=-2, keepdims=True)], axis=-2).reshape(*x.shape[:-1], (M + 1) * A)

    names = [*d.models, ALL_MODELS]
    levels = {
        "kind": (d.kinds, (1,), (2,)),
        "digit": (d.digits.tolist(), (0,), (1,)),
        "arm": ([None], (0, 1), (1, 2)),
    }
    out = {}
    for level, (labels, axes, rep_axes) in levels.items():
        ko, no = (x.sum(axis=axes).reshape(len(labels), R) for x in (k_obs, n_obs))
        kr, nr = (x.sum(axis=rep_axes).reshape(-1, len(labels), R) for x in (k_rep, n_rep))
        ko, no, kr, nr = map(with_all, (ko, no, kr, nr))
        io = i_obs.sum(axis=axes).reshape(len(labels), (M + 1) * A)
        stats = _interval_frame(ko, no, kr, nr)
        model_col = np.tile(np.repeat(names, A), len(labels))
        frame = pd.DataFrame(
            {
                "model": model_col,
                "lab": [d.labs.get(m, "") for m in model_col],
                "arm": np.tile(d.arms, (M + 1) * len(labels)),
                **({} if level == "arm" else {level: np.repeat(labels, (M + 1) * A)}),
                "n": no.ravel().astype(np.int64),
                "n_correct": ko.ravel().astype(np.int64),
                "n_instances": io.ravel().astype(np.int64),
                "accuracy": stats["value"].ravel(),
                "ci_low": stats["ci_low"].ravel(),
                "ci_high": stats["ci_high"].ravel(),
            }
        )
        out[level] = frame[frame["n"] > 0].reset_index(drop=True)
    return out


def _delta_table(d: _Design, obs: np.ndarray, reps: np.ndarray) -> pd.DataFrame:
    """Mean per-instance treatment − control per model × kind, per model ('all' kinds) and for All
    models, with bootstrap CIs: `obs` (S, 2M) and `reps` (B, S, 2M) hold Σ differences then Σ paired."""
    M = len(d.models)
    K, D = len(d.kinds), len(d.digits)
    d_obs, p_obs = obs[:, :M].reshape(K, D, M), obs[:, M:].reshape(K, D, M)
    d_rep, p_rep = reps[:, :, :M].reshape(-1, K, D, M), reps[:, :, M:].reshape(-1, K, D, M)

    def with_all(x: np.ndarray) -> np.ndarray:
        return np.concatenate([x, x.sum(axis=-1, keepdims=True)], axis=-1)

    names = [*d.models, ALL_MODELS]
    frames = []
    for kinds, axes, rep_axes in ((d.kinds, (1,), (2,)), (["all"], (0, 1), (1, 2))):
        do, po = (with_all(x.sum(axis=axes).reshape(len(kinds), M)) for x in (d_obs, p_obs))
        dr, pr = (with_all(x.sum(axis=rep_axes).reshape(-1, len(kinds), M)) for x in (d_rep, p_rep))
        stats = _interval_frame(do, po, dr, pr)
        frames.append(
            pd.DataFrame(
                {
                    "model": np.tile(names, len(kinds)),
                    "kind": np.repeat(kinds, M + 1),
                    "n_instances": po.ravel().astype(np.int64),
                    "delta": stats["value"].ravel(),
                    "ci_low": stats["ci_low"].ravel(),
                    "ci_high": stats["ci_high"].ravel(),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    return out[out["n_instances"] > 0].reset_index(drop=True)
