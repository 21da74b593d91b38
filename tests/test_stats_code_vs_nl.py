"""Code vs NL on fixed data, checked against independent computations (pandas, scipy, statsmodels, hand)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.anova import anova_lm

from evalhouse.analysis.code_vs_nl import ALL_MODELS, code_vs_nl
from evalhouse.analysis.criteria import Criteria
from evalhouse.analysis.simulate import simulate_responses


def _hand() -> pd.DataFrame:
    """One model, 4 instances × 2 seeds; the nl answer to p3 seed 1 is missing (an API error)."""
    rows = []
    code = {
        ("p0", 0): 1,
        ("p0", 1): 1,
        ("p1", 0): 1,
        ("p1", 1): 0,
        ("p2", 0): 1,
        ("p2", 1): 1,
        ("p3", 0): 0,
        ("p3", 1): 1,
    }
    nl = {("p0", 0): 0, ("p0", 1): 0, ("p1", 0): 1, ("p1", 1): 1, ("p2", 0): 0, ("p2", 1): 1, ("p3", 0): 0}
    for arm, table in (("code", code), ("nl", nl)):
        for (pid, seed), ok in table.items():
            rows.append(
                {
                    "model": "lab/m",
                    "kind": "add" if pid in ("p0", "p1") else "mul",
                    "digit": 2,
                    "arm": arm,
                    "seed": seed,
                    "sample": 0,
                    "problem_id": pid,
                    "is_correct": bool(ok),
                }
            )
    return pd.DataFrame(rows)


def test_hand_checked_counts_pairs_and_tests():
    """Accuracy counts every answered response; pairs need both arms for the same instance and seed."""
    r = code_vs_nl(_hand(), n_boot=200)
    acc = r.accuracy_by_arm.set_index(["model", "arm"])
    assert acc.loc[("lab/m", "code"), "n"] == 8 and acc.loc[("lab/m", "code"), "accuracy"] == 6 / 8
    assert acc.loc[("lab/m", "nl"), "n"] == 7 and acc.loc[("lab/m", "nl"), "accuracy"] == 3 / 7
    row = r.paired.iloc[0]
    # pairs: p0 (1,0)(1,0); p1 (1,1)(0,1); p2 (1,0)(1,1); p3 seed 0 (0,0)
    assert row.n_pairs == 7 and row.n_instances == 4
    assert (row.mcnemar_b, row.mcnemar_c, row.mcnemar_both, row.mcnemar_neither) == (3, 1, 2, 1)
    assert row.delta == pytest.approx((5 - 3) / 7)
    assert row.mcnemar_p == pytest.approx(stats.binomtest(3, 4).pvalue)
    # per-instance differences: p0 1, p1 -0.5, p2 0.5, p3 0
    diffs = [1.0, -0.5, 0.5, 0.0]
    assert row.wilcoxon_p == pytest.approx(stats.wilcoxon(diffs, zero_method="wilcox").pvalue)
    assert row.cohens_d == pytest.approx(np.mean(diffs) / np.std(diffs, ddof=1))
    kinds = r.delta[r.delta.model == "lab/m"].set_index("kind")
    assert kinds.loc["add", "delta"] == pytest.approx((3 - 2) / 4) and kinds.loc["mul", "delta"] == pytest.approx(
        (2 - 1) / 3
    )


@pytest.fixture(scope="module")
def sim():
    data = simulate_responses(n_models=3, kinds=4, digits=3, instances=15, seeds=2, random_state=5)
    return data, code_vs_nl(data, n_boot=300, seed=1)


def test_accuracy_tables_equal_pandas_groupby(sim):
    """Accuracy per model × arm × kind, × digit and pooled over models equal plain groupby means."""
    data, r = sim
    data = data.astype({"model": str, "arm": str, "kind": str})
    for level, table in (("kind", r.accuracy), ("digit", r.accuracy_by_digit)):
        expected = data.groupby(["model", "arm", level], observed=True)["is_correct"].mean()
        ours = table[table.model != ALL_MODELS].set_index(["model", "arm", level])["accuracy"]
        assert ours.sort_index().to_numpy() == pytest.approx(expected.sort_index().to_numpy())
    pooled = data.groupby("arm", observed=True)["is_correct"].mean()
    ours = r.accuracy_by_arm[r.accuracy_by_arm.model == ALL_MODELS].set_index("arm")["accuracy"]
    assert ours.sort_index().to_numpy() == pytest.approx(pooled.sort_index().to_numpy())
    assert (
        (r.accuracy.ci_low <= r.accuracy.accuracy + 1e-12) & (r.accuracy.accuracy <= r.accuracy.ci_high + 1e-12)
    ).all()


def test_per_model_tests_equal_scipy_on_independently_paired_data(sim):
    """Wilcoxon and McNemar p-values equal scipy on pairs built with a pandas merge."""
    data, r = sim
    data = data.astype({"model": str, "arm": str, "problem_id": str})
    keys = ["model", "problem_id", "seed", "sample"]
    pairs = data[data.arm == "code"].merge(data[data.arm == "nl"], on=keys, suffixes=("_code", "_nl"))
    for model, g in pairs.groupby("model"):
        per_inst = g.groupby("problem_id")[["is_correct_code", "is_correct_nl"]].mean()
        diffs = per_inst.is_correct_code - per_inst.is_correct_nl
        row = r.paired.set_index("model").loc[model]
        assert row.wilcoxon_p == pytest.approx(stats.wilcoxon(diffs, zero_method="wilcox").pvalue, rel=1e-9)
        b = int((g.is_correct_code & ~g.is_correct_nl).sum())
        c = int((~g.is_correct_code & g.is_correct_nl).sum())
        assert row.mcnemar_p == pytest.approx(stats.binomtest(b, b + c).pvalue, rel=1e-9)
        assert row.cohens_d == pytest.approx(diffs.mean() / diffs.std(ddof=1))
    holm = r.paired.wilcoxon_p_holm.to_numpy()
    from statsmodels.stats.multitest import multipletests

    assert holm == pytest.approx(multipletests(r.paired.wilcoxon_p, method="holm")[1])


def test_anova_equals_statsmodels_on_instance_accuracies(sim):
    """The model × arm ANOVA is statsmodels' type II on per-instance accuracy (mean over seeds)."""
    data, r = sim
    data = data.astype({"model": str, "arm": str, "problem_id": str})
    inst = data.groupby(["model", "arm", "problem_id"], as_index=False)["is_correct"].mean()
    ref = anova_lm(smf.ols("is_correct ~ C(model) * C(arm)", inst).fit(), typ=2)
    assert r.anova["F"].to_numpy()[:3] == pytest.approx(ref["F"].to_numpy()[:3], rel=1e-9)
    assert r.anova["PR(>F)"].to_numpy()[:3] == pytest.approx(ref["PR(>F)"].to_numpy()[:3], rel=1e-6)


def test_same_seed_same_intervals(sim):
    """The bootstrap is seeded: rerunning gives identical intervals."""
    data, r = sim
    again = code_vs_nl(data, n_boot=300, seed=1)
    pd.testing.assert_frame_equal(r.accuracy, again.accuracy)


def _two_groups(strong: dict, null: dict) -> pd.DataFrame:
    a = simulate_responses(n_models=2, kinds=5, digits=2, instances=30, seeds=2, arm_offsets=strong, random_state=1)
    b = simulate_responses(n_models=2, kinds=5, digits=2, instances=30, seeds=2, arm_offsets=null, random_state=2)
    b["model"] = b["model"].astype(str).str.replace("model-", "other-")
    return pd.concat([a.astype({"model": str}), b.astype({"model": str})], ignore_index=True)


def test_criteria_success_failure_and_ambiguous():
    """A large effect everywhere is a success; no effect is a failure; too few instances is ambiguous."""
    loose = Criteria(min_instances_per_model_seed=100)
    strong = _two_groups({"nl": 0.0, "code": 2.0}, {"nl": 0.0, "code": 2.0})
    r = code_vs_nl(strong, n_boot=200, criteria=loose)
    assert r.verdict.outcome == "success", r.verdict.summary()
    null = _two_groups({"nl": 0.0, "code": 0.0}, {"nl": 0.0, "code": 0.0})
    r = code_vs_nl(null, n_boot=200, criteria=loose)
    assert r.verdict.outcome == "failure" and "small effect" in r.verdict.reason
    mixed = _two_groups({"nl": 0.0, "code": 2.0}, {"nl": 0.0, "code": 0.0})
    r = code_vs_nl(mixed, n_boot=200, criteria=loose)
    assert r.verdict.outcome == "failure" and "not significant: 2 of 4" in r.verdict.reason
    r = code_vs_nl(strong, n_boot=200)  # the plan's 3,000 instances per model and seed
    assert r.verdict.outcome == "ambiguous" and r.verdict.reason.startswith("sample size not met")
    assert "VERDICT: AMBIGUOUS" in r.summary()


def test_missing_arm_and_no_pairs_are_clear_errors():
    """Without a control arm, or without any pair, the analysis says why instead of returning numbers."""
    d = _hand()
    with pytest.raises(ValueError, match="no responses in arm 'nl'"):
        code_vs_nl(d[d.arm == "code"])
    d.loc[d.arm == "nl", "seed"] = 9
    with pytest.raises(ValueError, match="no code/nl pairs"):
        code_vs_nl(d)


def test_outputs_render(sim):
    """to_dict is strict JSON with the plan's pieces; summary and LaTeX name every model."""
    import json

    _, r = sim
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    for key in ("paired", "accuracy", "accuracy_by_arm", "delta", "anova_model_arm", "criteria", "bootstrap"):
        assert d[key]
    assert d["criteria"]["outcome"] in {"success", "failure", "ambiguous"}
    for model in r.models:
        assert model in r.summary() and model.replace("_", r"\_") in r.latex()
    assert math.isfinite(r.pooled_cohens_d)


def test_model_without_the_control_arm_is_left_out_of_the_tests():
    """A model with only code responses keeps its accuracy but is not tested (and not counted in m)."""
    data = simulate_responses(n_models=3, kinds=2, digits=2, instances=10, seeds=1).astype({"model": str, "arm": str})
    data = data[~((data.model == "synthetic/model-2") & (data.arm == "nl"))]
    r = code_vs_nl(data, n_boot=100)
    assert list(r.paired.model) == ["synthetic/model-0", "synthetic/model-1"]
    assert "synthetic/model-2" in set(r.accuracy_by_arm.model) and "synthetic/model-2" in r.summary()
    assert r.paired.wilcoxon_p_bonferroni.to_numpy() == pytest.approx(np.minimum(1, 2 * r.paired.wilcoxon_p.to_numpy()))
