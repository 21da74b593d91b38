"""The scale-up plan's evaluation criteria, evaluated on a Code-vs-NL result and printed with the reason.

The plan names 4 models; its counts are read as shares so they carry to any number of models
("at least 3/4 models" → at least 75% of them, "≥ 2 models" → at least half). A model is *significant
for treatment > control* at level x when its two-sided Wilcoxon p < x and its paired delta is positive
(a two-sided test with a direction, more conservative than the one-sided test, which is reported too).
The plan's "samples per model per seed" are read as problem instances per model (a seed replicates an
instance; it adds no sample): the instances each tested model answered under both arms.

Outcome: **failure** if any failure criterion holds; otherwise **success** if every success criterion
holds and no ambiguous-zone flag is raised; otherwise **ambiguous** (the plan: "requires follow-up").
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from .format import num, p_value, tex


@dataclass(frozen=True)
class Criteria:
    """Thresholds, defaulting to the plan's."""

    alpha: float = 0.05
    min_instances_per_model: int = 3000  # "≥ 3,000 samples per model per seed": paired instances per model
    success_share_significant: float = 0.75  # "p < 0.0125 (Bonferroni) … in at least 3/4 models"
    failure_share_not_significant: float = 0.5  # "p > 0.05 … in ≥ 2 models"
    d_success: float = 0.5  # "Cohen's d ≥ 0.5 (medium effect)"
    d_failure: float = 0.2  # "Cohen's d < 0.2 (small effect)"
    kind_share_consistent: float = 0.8  # "advantage present across ≥ 80% of problem kinds"
    kind_spread: float = 0.15  # "large variance across problem kinds": the plan gives no number; SD of kind deltas

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Check:
    group: str  # success | failure | ambiguous
    name: str
    holds: bool
    value: str
    rule: str

    def line(self) -> str:
        mark = "✓" if self.holds else "✗"
        return f"  [{mark}] {self.name:<30} {self.value}   (rule: {self.rule})"


@dataclass(frozen=True)
class Verdict:
    outcome: str  # success | failure | ambiguous
    reason: str
    checks: tuple[Check, ...]
    criteria: Criteria

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "reason": self.reason,
            "thresholds": self.criteria.to_dict(),
            "checks": [asdict(c) for c in self.checks],
        }

    def summary(self) -> str:
        titles = {
            "success": "Success criteria (all must hold)",
            "failure": "Failure criteria (any rejects H1)",
            "ambiguous": "Ambiguous zone (any calls for follow-up)",
        }
        lines = ["Plan criteria (H1: treatment > control)"]
        for group in ("success", "failure", "ambiguous"):
            lines.append(f" {titles[group]}")
            lines += [c.line() for c in self.checks if c.group == group]
        lines.append(f" VERDICT: {self.outcome.upper()} — {self.reason}")
        return "\n".join(lines)

    def latex(self) -> str:
        rows = [f"{c.group} & {tex(c.name)} & {'yes' if c.holds else 'no'} & {tex(c.value)} \\\\" for c in self.checks]
        return "\n".join(
            [
                r"\begin{table}[t]",
                r"\centering",
                r"\small",
                r"\begin{tabular}{lllp{6cm}}",
                r"\hline",
                r"Group & Criterion & Holds & Value \\",
                r"\hline",
                *rows,
                r"\hline",
                r"\end{tabular}",
                rf"\caption{{Pre-registered criteria. Verdict: \textbf{{{self.outcome}}} --- {tex(self.reason)}.}}",
                r"\end{table}",
            ]
        )


def evaluate(
    criteria: Criteria,
    paired: pd.DataFrame,
    kind_deltas: pd.DataFrame,
    pooled_dz: float,
    interaction_p: float | None,
) -> Verdict:
    """The verdict from the per-model tests (`paired`: model, n_instances, delta, wilcoxon_p,
    wilcoxon_p_bonferroni), the all-models delta per kind, the pooled within-model d_z and the model × kind
    interaction's p (None when it could not be computed)."""
    a = criteria.alpha
    m = len(paired)
    positive = paired["delta"] > 0
    sig_bonf = (paired["wilcoxon_p_bonferroni"] < a) & positive
    sig_raw = (paired["wilcoxon_p"] < a) & positive
    need = math.ceil(criteria.success_share_significant * m)
    fail_at = max(1, math.ceil(criteria.failure_share_not_significant * m))
    n_sig, n_not = int(sig_bonf.sum()), int((~sig_raw).sum())
    worst = paired.loc[paired["n_instances"].idxmin()]
    min_inst = int(worst["n_instances"])
    d = pooled_dz
    kinds = kind_deltas
    share_up = float((kinds["delta"] > 0).mean()) if len(kinds) else float("nan")
    spread = float(kinds["delta"].std(ddof=1)) if len(kinds) > 1 else float("nan")
    below = paired[paired["delta"] < 0]
    inter_p = interaction_p
    names = lambda frame: ", ".join(frame["model"]) or "none"

    checks = (
        Check(
            "success",
            "sample size",
            bool(min_inst >= criteria.min_instances_per_model),
            f"min {min_inst:,} paired instances per model ({worst['model']})",
            f"≥ {criteria.min_instances_per_model:,}",
        ),
        Check(
            "success",
            "significance (Bonferroni)",
            n_sig >= need,
            f"{n_sig} of {m} models (Wilcoxon, α/{m} = {a / m:.4g}): {names(paired[sig_bonf])}",
            f"≥ {need} of {m} models with Bonferroni p < {a} and Δ > 0",
        ),
        Check(
            "success",
            "effect size",
            bool(d >= criteria.d_success),
            f"pooled within-model d_z = {num(d)}",
            f"≥ {criteria.d_success}",
        ),
        Check(
            "success",
            "consistency across kinds",
            bool(share_up >= criteria.kind_share_consistent),
            f"{int((kinds['delta'] > 0).sum())} of {len(kinds)} kinds with Δ > 0 ({num(100 * share_up, 0)}%)",
            f"≥ {criteria.kind_share_consistent:.0%} of kinds",
        ),
        Check(
            "failure",
            "not significant",
            n_not >= fail_at,
            f"{n_not} of {m} models without Wilcoxon p < {a} and Δ > 0: {names(paired[~sig_raw])}",
            f"≥ {fail_at} of {m} models",
        ),
        Check(
            "failure",
            "small effect",
            bool(d < criteria.d_failure),
            f"pooled within-model d_z = {num(d)}",
            f"< {criteria.d_failure}",
        ),
        Check(
            "failure",
            "treatment below control",
            len(below) > 0,
            f"models with aggregate Δ < 0: {names(below)}",
            "any model",
        ),
        Check(
            "ambiguous",
            "mixed results",
            0 < n_sig < need,
            f"{n_sig} of {m} models significant after Bonferroni",
            f"some but fewer than {need}",
        ),
        Check(
            "ambiguous",
            "large variance across kinds",
            bool(spread >= criteria.kind_spread),
            f"SD of kind deltas = {num(spread)}",
            f"≥ {criteria.kind_spread} (evalhouse's threshold)",
        ),
        Check(
            "ambiguous",
            "model × kind interaction",
            inter_p is not None and inter_p < a,
            "not computed (one model or one kind)" if inter_p is None else f"ANOVA p = {p_value(inter_p)}",
            f"p < {a}",
        ),
    )
    outcome, reason = _decide(checks)
    return Verdict(outcome, reason, checks, criteria)


def _decide(checks: tuple[Check, ...]) -> tuple[str, str]:
    failed = [c for c in checks if c.group == "failure" and c.holds]
    if failed:
        return "failure", "; ".join(f"{c.name}: {c.value}" for c in failed)
    unmet = [c for c in checks if c.group == "success" and not c.holds]
    flags = [c for c in checks if c.group == "ambiguous" and c.holds]
    if not unmet and not flags:
        return "success", "every success criterion holds and no ambiguous-zone flag is raised"
    parts = [f"{c.name} not met ({c.value})" for c in unmet] + [f"{c.name} ({c.value})" for c in flags]
    return "ambiguous", "; ".join(parts)
