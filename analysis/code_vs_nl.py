"""Code vs NL (the scale-up plan's Phases 3–4): accuracy with instance-clustered intervals, paired tests
per model, two-way ANOVA, effect sizes and the plan's success / failure / ambiguous verdict.

Input is one row per graded response that came back (`graded.graded_responses` where `is_answered`):
`model, kind, digit, arm, seed, sample, problem_id, is_correct` (and `lab` if known). Units:
- an *instance* is a `problem_id`: the bootstrap resamples instances within kind × digit, and the
  Wilcoxon test, Cohen's d and the ANOVA work on per-instance accuracies (averaged over seeds and
  samples), so seeds of one instance are never counted as independent evidence;
- a *pair* is the treatment and control response of one model to one instance under the same seed and
  sample (as `marts.code_nl_delta`): the exact McNemar test counts discordant pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from evalhouse.vocabulary import arm_order

from . import bootstrap
from .anova import anova_two_way
from .criteria import Criteria, Verdict, evaluate
from .format import jsonable, num, p_text, tex
from .paired import adjust, cohens_d_paired, mcnemar_exact, wilcoxon_signed_rank

ALL_MODELS = "All models"
RESPONSE_COLUMNS = ("model", "kind", "digit", "arm", "seed", "sample", "problem_id", "is_correct")


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
    delta: pd.DataFrame  # model × kind (+ All models) treatment − control on pairs, with bootstrap CI
    paired: pd.DataFrame  # per model: pairs, accuracies, delta, CI, Wilcoxon, McNemar, d, adjusted p
    anova: pd.DataFrame | None  # two-way ANOVA model × arm on per-instance accuracy
    interaction: pd.DataFrame | None  # ANOVA model × kind on per-instance paired differences
    instances_per_model_seed: pd.DataFrame
    pooled_cohens_d: float
    criteria: Criteria = field(default_factory=Criteria)

    @cached_property
    def verdict(self) -> Verdict:
        return evaluate(self, self.criteria)

    @property
    def models(self) -> list[str]:
        """Every model with responses; `paired` holds those that have both arms."""
        return sorted(self.labs)

    def to_dict(self) -> dict[str, Any]:
        def records(frame: pd.DataFrame | None):
            return None if frame is None else frame.to_dict(orient="records")

        return jsonable(
            {
                "analysis": "code_vs_nl",
                "treatment": self.treatment,
                "control": self.control,
                "n_responses": self.n_responses,
                "n_instances": self.n_instances,
                "bootstrap": {
                    "n_boot": self.n_boot,
                    "seed": self.seed,
                    "cluster": "problem_id",
                    "strata": "kind x digit",
                    "interval": "percentile 95%",
                },
                "labs": self.labs,
                "paired": records(self.paired),
                "pooled_cohens_d": self.pooled_cohens_d,
                "accuracy_by_arm": records(self.accuracy_by_arm),
                "accuracy": records(self.accuracy),
                "accuracy_by_digit": records(self.accuracy_by_digit),
                "delta": records(self.delta),
                "anova_model_arm": records(self.anova.reset_index(names="term") if self.anova is not None else None),
                "anova_model_kind_delta": records(
                    self.interaction.reset_index(names="term") if self.interaction is not None else None
                ),
                "instances_per_model_seed": records(self.instances_per_model_seed),
                "criteria": self.verdict.to_dict(),
            }
        )

    def summary(self) -> str:
        t, c = self.treatment, self.control
        lines = [
            "=" * 96,
            f" {t.upper()} vs {c.upper()}: {self.n_responses:,} responses, {self.n_instances:,} instances,"
            f" {len(self.models)} models   (bootstrap: {self.n_boot} resamples of instances, seed {self.seed})",
            "=" * 96,
            "",
            *_arm_table_lines(self.accuracy_by_arm, self.models),
        ]
        lines += [
            "",
            f"Paired {t} − {c} per model (Wilcoxon over instances; exact McNemar over pairs;"
            f" adjusted over {len(self.paired)} models)",
            f"  {'model':<36}{'pairs':>7}{'inst':>6}{'Δ':>8}{'95% CI':>18}{'d':>7}{'Wilcoxon p':>12}"
            f"{'Bonf.':>9}{'Holm':>9}{'b/c':>11}{'McNemar p':>11}",
        ]
        for r in self.paired.itertuples():
            lines.append(
                f"  {r.model[:35]:<36}{r.n_pairs:>7}{r.n_instances:>6}{r.delta:>+8.3f}"
                f"  [{r.delta_ci_low:+.3f}, {r.delta_ci_high:+.3f}]{num(r.cohens_d, 2):>7}"
                f"{r.wilcoxon_p:>12.3g}{r.wilcoxon_p_bonferroni:>9.3g}{r.wilcoxon_p_holm:>9.3g}"
                f"{f'{r.mcnemar_b}/{r.mcnemar_c}':>11}{r.mcnemar_p:>11.3g}"
            )
        lines.append(f"  pooled paired Cohen's d (all models' instances): {num(self.pooled_cohens_d, 3)}")
        kinds = self.delta[self.delta["model"] == ALL_MODELS]
        lines += ["", f"{t} − {c} by kind (all models, paired)"]
        for r in kinds.itertuples():
            lines.append(f"  {r.kind:<16}{r.delta:>+8.3f}  [{r.ci_low:+.3f}, {r.ci_high:+.3f}]  pairs {r.n_pairs}")
        for title, table in (
            ("Two-way ANOVA: model × arm (per-instance accuracy, type II)", self.anova),
            (f"ANOVA of per-instance {t} − {c}: model × kind (type II)", self.interaction),
        ):
            lines += ["", title]
            if table is None:
                lines.append("  not computed (needs at least two levels of each factor)")
                continue
            for term, r in table.iterrows():
                f = "" if pd.isna(r["F"]) else f"F = {r['F']:>10.3f}   {p_text(r['PR(>F)'])}"
                lines.append(f"  {term:<22} df = {r['df']:>8.0f}   SS = {r['sum_sq']:>12.4f}   {f}")
        lines += ["", self.verdict.summary(), "=" * 96]
        return "\n".join(lines)

    def latex(self) -> str:
        t, c = tex(self.treatment), tex(self.control)
        test_rows = [
            f"{tex(r.model)} & {r.n_instances} & {r.delta:+.3f} [{r.delta_ci_low:+.3f}, {r.delta_ci_high:+.3f}] & "
            f"{num(r.cohens_d, 2)} & {_p_cell(r.wilcoxon_p)} & {_p_cell(r.wilcoxon_p_holm)} & "
            f"{r.mcnemar_b}/{r.mcnemar_c} & {_p_cell(r.mcnemar_p)} \\\\"
            for r in self.paired.itertuples()
        ]
        return "\n".join(
            [
                _arm_table_latex(self.accuracy_by_arm, self.models, self.n_boot),
                "",
                r"\begin{table}[t]",
                r"\centering",
                r"\small",
                r"\begin{tabular}{lrcrrrrr}",
                r"\hline",
                rf"Model & Inst. & $\Delta$ ({t}$-${c}) [95\% CI] & $d_z$ & Wilcoxon $p$ & Holm $p$ & $b/c$ & McNemar $p$ \\",
                r"\hline",
                *test_rows,
                r"\hline",
                r"\end{tabular}",
                rf"\caption{{Paired {t} vs {c} per model: Wilcoxon signed-rank over per-instance differences, exact McNemar"
                rf" over paired responses ($b$: only {t} correct, $c$: only {c} correct), Holm-adjusted over"
                rf" {len(self.paired)} models. Pooled $d_z = {num(self.pooled_cohens_d, 2)}$.}}",
                r"\end{table}",
                "",
                self.verdict.latex(),
            ]
        )


def _p_cell(p: float) -> str:
    return "$<0.001$" if p < 0.001 else f"{p:.3f}"


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
        "Accuracy by arm (all kinds), 95% cluster-bootstrap CI",
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
            rf"\caption{{Accuracy by arm with 95\% bootstrap intervals ({n_boot} resamples of problem instances,"
            r" stratified by kind and digit).}",
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

    @property
    def models(self) -> list[str]:
        return sorted(self.labs)

    def to_dict(self) -> dict[str, Any]:
        return jsonable(
            {
                "analysis": "accuracy",
                "n_responses": self.n_responses,
                "n_instances": self.n_instances,
                "bootstrap": {
                    "n_boot": self.n_boot,
                    "seed": self.seed,
                    "cluster": "problem_id",
                    "strata": "kind x digit",
                },
                "labs": self.labs,
                "accuracy_by_arm": self.accuracy_by_arm.to_dict(orient="records"),
                "accuracy": self.accuracy.to_dict(orient="records"),
                "accuracy_by_digit": self.accuracy_by_digit.to_dict(orient="records"),
            }
        )

    def summary(self) -> str:
        return "\n".join(
            [
                f"{self.n_responses:,} responses, {self.n_instances:,} instances, {len(self.models)} models",
                "",
                *_arm_table_lines(self.accuracy_by_arm, self.models),
            ]
        )

    def latex(self) -> str:
        return _arm_table_latex(self.accuracy_by_arm, self.models, self.n_boot)


# ---- loading -----------------------------------------------------------------------------------------


def load_responses(warehouse_path=None, where: str | None = None) -> pd.DataFrame:
    """Graded responses that came back, with each model's lab (registry, else the id's provider prefix)."""
    from .sources import query

    sql = f"""
        select r.model, coalesce(reg.lab, split_part(r.model, '/', 1)) as lab, r.kind, r.digit, r.arm,
               r.seed, r.sample, r.problem_id, r.is_correct
        from graded.graded_responses as r
        left join seeds.model_registry as reg using (model)
        where r.is_answered and r.verdict not in ('not_run', 'pending', 'api_error')
        {f"and ({where})" if where else ""}
    """
    return query(sql, warehouse_path)


# ---- the analysis ------------------------------------------------------------------------------------


@dataclass
class _Coded:
    """The responses as integer codes: models, arms, instances (sorted), and each instance's kind/digit."""

    models: list[str]
    arms: list[str]
    kinds: list[str]
    digits: np.ndarray  # distinct digits, sorted
    m: np.ndarray
    a: np.ndarray
    i: np.ndarray
    correct: np.ndarray
    seed: np.ndarray
    sample: np.ndarray
    inst_kind: np.ndarray
    inst_digit: np.ndarray  # index into digits
    n_instances: int


def _code(df: pd.DataFrame) -> _Coded:
    m, models = pd.factorize(df["model"], sort=True)
    a_found, arm_values = pd.factorize(df["arm"])
    arms = arm_order(arm_values)
    a = pd.Index(arms).get_indexer(arm_values)[a_found]  # codes in the arms' canonical order
    i, instances = pd.factorize(df["problem_id"])
    k, kinds = pd.factorize(df["kind"], sort=True)
    digit = df["digit"].fillna(0).to_numpy(np.int64)
    digits = np.unique(digit)
    n_inst = len(instances)
    inst_kind = np.zeros(n_inst, dtype=np.int64)
    inst_kind[i] = k
    inst_digit = np.zeros(n_inst, dtype=np.int64)
    inst_digit[i] = np.searchsorted(digits, digit)
    return _Coded(
        list(models),
        arms,
        list(kinds),
        digits,
        m.astype(np.int64),
        a.astype(np.int64),
        i.astype(np.int64),
        df["is_correct"].fillna(False).to_numpy(bool),
        pd.factorize(df["seed"].fillna(0))[0].astype(np.int64),
        pd.factorize(df["sample"].fillna(0))[0].astype(np.int64),
        inst_kind,
        inst_digit,
        n_inst,
    )


def _cell_sums(codes: np.ndarray, n_rows: int, n_inst: int, weights: np.ndarray | None = None) -> np.ndarray:
    """(n_rows × instances) sums from row codes (row * n_inst + instance)."""
    return np.bincount(codes, weights=weights, minlength=n_rows * n_inst).reshape(n_rows, n_inst)


@dataclass
class _Pairs:
    model: np.ndarray
    instance: np.ndarray
    treatment: np.ndarray
    control: np.ndarray


def _pairs(c: _Coded, treatment: int, control: int) -> _Pairs:
    """Treatment and control responses of the same model, instance, seed and sample."""
    n_seed = int(c.seed.max(initial=0)) + 1
    n_sample = int(c.sample.max(initial=0)) + 1
    key = ((c.m * c.n_instances + c.i) * n_seed + c.seed) * n_sample + c.sample
    t_rows = np.flatnonzero(c.a == treatment)
    c_rows = np.flatnonzero(c.a == control)
    t_keys, t_first = np.unique(key[t_rows], return_index=True)
    c_keys, c_first = np.unique(key[c_rows], return_index=True)
    _, ti, ci = np.intersect1d(t_keys, c_keys, assume_unique=True, return_indices=True)
    tr, cr = t_rows[t_first[ti]], c_rows[c_first[ci]]
    return _Pairs(c.m[tr], c.i[tr], c.correct[tr], c.correct[cr])


def _anova(y: np.ndarray, a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> pd.DataFrame | None:
    """Type II two-way ANOVA with interaction, or None without two levels of each factor."""
    if len(np.unique(a)) < 2 or len(np.unique(b)) < 2:
        return None
    return anova_two_way(y, a, b, names)


def _check(responses: pd.DataFrame) -> None:
    missing = set(RESPONSE_COLUMNS) - set(responses.columns)
    if missing:
        raise ValueError(f"responses lack column(s) {', '.join(sorted(missing))}")
    if responses.empty:
        raise ValueError("no graded responses to analyse")


def _strata(c: _Coded) -> tuple[np.ndarray, int]:
    """Each instance's design cell (kind × digit): the strata the bootstrap resamples within."""
    return c.inst_kind * len(c.digits) + c.inst_digit, len(c.kinds) * len(c.digits)


def accuracy(responses: pd.DataFrame, n_boot: int = bootstrap.N_BOOT, seed: int = 0) -> AccuracyResult:
    """Accuracy per model × arm (× kind, × digit, pooled) with instance-bootstrap intervals, any arms."""
    _check(responses)
    c = _code(responses)
    M, A, I = len(c.models), len(c.arms), c.n_instances  # noqa: E741 (models, arms, instances)
    cell = (c.m * A + c.a) * I + c.i
    values = np.vstack([_cell_sums(cell, M * A, I, c.correct.astype(float)), _cell_sums(cell, M * A, I)])
    stratum, n_strata = _strata(c)
    obs, reps = bootstrap.stratum_sums(values, stratum, n_strata, n_boot, seed)
    labs = _labs(responses, c.models)
    acc = _accuracy_tables(
        c, obs.reshape(len(c.kinds), len(c.digits), -1), reps.reshape(n_boot, len(c.kinds), len(c.digits), -1), labs
    )
    return AccuracyResult(n_boot, seed, len(responses), I, labs, acc["kind"], acc["arm"], acc["digit"])


def code_vs_nl(
    responses: pd.DataFrame,
    treatment: str = "code",
    control: str = "nl",
    n_boot: int = bootstrap.N_BOOT,
    seed: int = 0,
    criteria: Criteria | None = None,
) -> CodeVsNLResult:
    """Run Phases 3–4 on graded responses (one row per response that came back)."""
    _check(responses)
    c = _code(responses)
    for arm in (treatment, control):
        if arm not in c.arms:
            raise ValueError(f"no responses in arm {arm!r} (arms: {', '.join(c.arms)})")
    t_arm, c_arm = c.arms.index(treatment), c.arms.index(control)
    M, A, I = len(c.models), len(c.arms), c.n_instances  # noqa: E741 (models, arms, instances)
    labs = _labs(responses, c.models)

    # Per-instance sums: accuracy rows (model × arm) and paired-difference rows (model).
    cell = (c.m * A + c.a) * I + c.i
    n = _cell_sums(cell, M * A, I)
    k = _cell_sums(cell, M * A, I, c.correct.astype(float))
    p = _pairs(c, t_arm, c_arm)
    pair_cell = p.model * I + p.instance
    n_pairs = _cell_sums(pair_cell, M, I)
    t_sum = _cell_sums(pair_cell, M, I, p.treatment.astype(float))
    c_sum = _cell_sums(pair_cell, M, I, p.control.astype(float))
    if n_pairs.sum() == 0:
        raise ValueError(
            f"no {treatment}/{control} pairs: no instance has both arms for the same model, seed and sample"
        )

    # Bootstrap over instances within kind × digit, all statistics at once.
    n_digits = len(c.digits)
    stratum, n_strata = _strata(c)
    values = np.vstack([k, n, t_sum - c_sum, n_pairs])
    obs, reps = bootstrap.stratum_sums(values, stratum, n_strata, n_boot, seed)
    obs = obs.reshape(len(c.kinds), n_digits, -1)
    reps = reps.reshape(n_boot, len(c.kinds), n_digits, -1)

    acc = _accuracy_tables(c, obs, reps, labs)
    delta = _delta_table(c, obs, reps, M, A)
    model_delta = delta[delta["kind"] == "all"].set_index("model")

    # Per-instance differences for Wilcoxon / d; pairs for McNemar.
    rows, diffs_all = [], []
    has = n_pairs > 0
    for mi, model in enumerate(c.models):
        sel = p.model == mi
        if not sel.any():  # the model lacks one of the arms: nothing to pair, nothing to test
            continue
        inst = np.flatnonzero(has[mi])
        diffs = (t_sum[mi, inst] - c_sum[mi, inst]) / n_pairs[mi, inst]
        diffs_all.append(diffs)
        w = wilcoxon_signed_rank(diffs)
        mc = mcnemar_exact(p.treatment[sel], p.control[sel])
        d = model_delta.loc[model]
        rows.append(
            {
                "model": model,
                "lab": labs[model],
                "n_pairs": int(sel.sum()),
                "n_instances": len(inst),
                "accuracy_treatment": float(p.treatment[sel].mean()),
                "accuracy_control": float(p.control[sel].mean()),
                "delta": d["delta"],
                "delta_ci_low": d["ci_low"],
                "delta_ci_high": d["ci_high"],
                "cohens_d": cohens_d_paired(diffs),
                "wilcoxon_stat": w.statistic,
                "wilcoxon_n_nonzero": w.n_nonzero,
                "wilcoxon_p": w.p_value,
                "wilcoxon_p_greater": w.p_greater,
                "mcnemar_both": mc.both,
                "mcnemar_b": mc.treatment_only,
                "mcnemar_c": mc.control_only,
                "mcnemar_neither": mc.neither,
                "mcnemar_p": mc.p_value,
            }
        )
    paired = pd.DataFrame(rows)
    for test in ("wilcoxon", "mcnemar"):
        for method in ("bonferroni", "holm"):
            paired[f"{test}_p_{method}"] = adjust(paired[f"{test}_p"].tolist(), method)

    # ANOVAs on per-instance accuracies and per-instance differences.
    cells = np.flatnonzero(n.ravel() > 0)
    row = cells // I
    anova = _anova(
        k.ravel()[cells] / n.ravel()[cells], np.array(c.models)[row // A], np.array(c.arms)[row % A], ("model", "arm")
    )
    pm, pi = np.nonzero(has)
    interaction = _anova(
        (t_sum[pm, pi] - c_sum[pm, pi]) / n_pairs[pm, pi],
        np.array(c.models)[pm],
        np.array(c.kinds)[c.inst_kind[pi]],
        ("model", "kind"),
    )

    answered = pd.DataFrame({"model": np.array(c.models)[c.m], "seed": responses["seed"].to_numpy(), "i": c.i})
    per_seed = answered.groupby(["model", "seed"])["i"].nunique().rename("n_instances").reset_index()

    return CodeVsNLResult(
        treatment=treatment,
        control=control,
        n_boot=n_boot,
        seed=seed,
        n_responses=len(responses),
        n_instances=I,
        labs=labs,
        accuracy=acc["kind"],
        accuracy_by_arm=acc["arm"],
        accuracy_by_digit=acc["digit"],
        delta=delta,
        paired=paired,
        anova=anova,
        interaction=interaction,
        instances_per_model_seed=per_seed,
        pooled_cohens_d=cohens_d_paired(np.concatenate(diffs_all)),
        criteria=criteria or Criteria(),
    )


def _labs(responses: pd.DataFrame, models: list[str]) -> dict[str, str]:
    if "lab" in responses.columns:
        known = responses.dropna(subset=["lab"]).drop_duplicates("model").set_index("model")["lab"].to_dict()
    else:
        known = {}
    return {m: str(known.get(m) or m.split("/")[0]) for m in models}


def _interval_frame(num: np.ndarray, den: np.ndarray, num_b: np.ndarray, den_b: np.ndarray) -> dict[str, np.ndarray]:
    lo, hi = bootstrap.percentile_interval(bootstrap.ratio(num_b, den_b))
    return {"value": bootstrap.ratio(num, den), "ci_low": lo, "ci_high": hi}


def _accuracy_tables(c: _Coded, obs: np.ndarray, reps: np.ndarray, labs: dict[str, str]) -> dict[str, pd.DataFrame]:
    """Accuracy with CIs for model × arm by kind, overall and by digit; `All models` pools every model."""
    M, A = len(c.models), len(c.arms)
    R = M * A
    k_obs, n_obs = obs[..., :R], obs[..., R : 2 * R]  # (kinds, digits, R)
    k_rep, n_rep = reps[..., :R], reps[..., R : 2 * R]  # (B, kinds, digits, R)

    def with_all(x: np.ndarray) -> np.ndarray:
        """Append the pooled 'All models' rows: (…, M*A) → (…, (M+1)*A)."""
        shaped = x.reshape(*x.shape[:-1], M, A)
        return np.concatenate([shaped, shaped.sum(axis=-2, keepdims=True)], axis=-2).reshape(*x.shape[:-1], (M + 1) * A)

    names = [*c.models, ALL_MODELS]
    levels = {
        "kind": (c.kinds, k_obs.sum(axis=1), n_obs.sum(axis=1), k_rep.sum(axis=2), n_rep.sum(axis=2)),
        "digit": (c.digits.tolist(), k_obs.sum(axis=0), n_obs.sum(axis=0), k_rep.sum(axis=1), n_rep.sum(axis=1)),
        "arm": (
            [None],
            k_obs.sum(axis=(0, 1))[None],
            n_obs.sum(axis=(0, 1))[None],
            k_rep.sum(axis=(1, 2))[:, None],
            n_rep.sum(axis=(1, 2))[:, None],
        ),
    }
    out = {}
    for level, (labels, ko, no, kr, nr) in levels.items():
        ko, no, kr, nr = with_all(ko), with_all(no), with_all(kr), with_all(nr)
        stats = _interval_frame(ko, no, kr, nr)
        model_col = np.tile(np.repeat(names, A), len(labels))
        frame = pd.DataFrame(
            {
                "model": model_col,
                "lab": [labs.get(m, "") for m in model_col],
                "arm": np.tile(c.arms, (M + 1) * len(labels)),
                **({} if level == "arm" else {level: np.repeat(labels, (M + 1) * A)}),
                "n": no.ravel().astype(int),
                "n_correct": ko.ravel().astype(int),
                "accuracy": stats["value"].ravel(),
                "ci_low": stats["ci_low"].ravel(),
                "ci_high": stats["ci_high"].ravel(),
            }
        )
        out[level] = frame[frame["n"] > 0].reset_index(drop=True)
    return out


def _delta_table(c: _Coded, obs: np.ndarray, reps: np.ndarray, M: int, A: int) -> pd.DataFrame:
    """Treatment − control on pairs, per model × kind, per model ('all' kinds), and for All models."""
    R = M * A
    d_obs, p_obs = obs[..., 2 * R : 2 * R + M], obs[..., 2 * R + M :]  # (kinds, digits, M)
    d_rep, p_rep = reps[..., 2 * R : 2 * R + M], reps[..., 2 * R + M :]

    def with_all(x: np.ndarray) -> np.ndarray:
        return np.concatenate([x, x.sum(axis=-1, keepdims=True)], axis=-1)

    by_kind = [with_all(x) for x in (d_obs.sum(axis=1), p_obs.sum(axis=1), d_rep.sum(axis=2), p_rep.sum(axis=2))]
    overall = [
        with_all(x)
        for x in (
            d_obs.sum(axis=(0, 1))[None],
            p_obs.sum(axis=(0, 1))[None],
            d_rep.sum(axis=(1, 2))[:, None],
            p_rep.sum(axis=(1, 2))[:, None],
        )
    ]
    names = [*c.models, ALL_MODELS]
    frames = []
    for kinds, (do, po, dr, pr) in ((c.kinds, by_kind), (["all"], overall)):
        stats = _interval_frame(do, po, dr, pr)
        frames.append(
            pd.DataFrame(
                {
                    "model": np.tile(names, len(kinds)),
                    "kind": np.repeat(kinds, M + 1),
                    "n_pairs": po.ravel().astype(int),
                    "delta": stats["value"].ravel(),
                    "ci_low": stats["ci_low"].ravel(),
                    "ci_high": stats["ci_high"].ravel(),
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    return out[out["n_pairs"] > 0].reset_index(drop=True)
