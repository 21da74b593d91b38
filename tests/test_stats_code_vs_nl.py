"""Code vs NL on instance counts: checked by hand, against independent pandas computations, and by the
property that copying the data under more seeds changes no p-value and no interval."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evalhouse.analysis.bootstrap import SmallCellWarning
from evalhouse.analysis.code_vs_nl import ALL_MODELS, code_vs_nl, instances_from_responses
from evalhouse.analysis.criteria import Criteria
from evalhouse.analysis.simulate import simulate_responses


def _hand() -> pd.DataFrame:
    """One model, 4 instances × 2 seeds; the nl answer to p3 seed 1 is missing (an API error)."""
    code = {("p0", 0): 1, ("p0", 1): 1, ("p1", 0): 1, ("p1", 1): 0, ("p2", 0): 1, ("p2", 1): 1, ("p3", 0): 0}
    code[("p3", 1)] = 1
    nl = {("p0", 0): 0, ("p0", 1): 0, ("p1", 0): 1, ("p1", 1): 1, ("p2", 0): 0, ("p2", 1): 1, ("p3", 0): 0}
    rows = [
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
        for arm, table in (("code", code), ("nl", nl))
        for (pid, seed), ok in table.items()
    ]
    return pd.DataFrame(rows)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallCellWarning)
        return fn(*args, **kwargs)


def test_instances_from_responses_counts_replicates():
    """One row per model × instance × arm: n answered replicates, n_correct, accuracy, as the mart has them."""
    inst = instances_from_responses(_hand()).set_index(["problem_id", "arm"])
    assert list(inst.columns) == [
        "model",
        "lab",
        "kind",
        "digit",
        "n",
        "n_correct",
        "accuracy",
        "n_reported",
        "n_correct_reported",
    ]
    assert inst.loc[("p3", "nl"), ["n", "n_correct"]].tolist() == [1, 0]
    assert inst.loc[("p1", "code"), ["n", "n_correct", "accuracy"]].tolist() == [2, 1, 0.5]
    assert len(inst) == 8


def test_hand_checked_instance_level_figures():
    """Accuracy counts every answered response; Δ, tests and effect sizes use per-instance accuracies."""
    with pytest.warns(SmallCellWarning):
        r = code_vs_nl(instances_from_responses(_hand()), n_boot=200)
    acc = r.accuracy_by_arm.set_index(["model", "arm"])
    assert acc.loc[("lab/m", "code"), ["n", "n_instances"]].tolist() == [8, 4]
    assert acc.loc[("lab/m", "code"), "accuracy"] == 6 / 8 and acc.loc[("lab/m", "nl"), "accuracy"] == 3 / 7
    row = r.paired.iloc[0]
    # per-instance accuracies code: 1, .5, 1, .5; nl: 0, 1, .5, 0 → differences 1, −.5, .5, .5
    diffs = np.array([1.0, -0.5, 0.5, 0.5])
    assert row.n_instances == 4 and row.delta == pytest.approx(diffs.mean())
    assert row.accuracy_treatment == pytest.approx(0.75) and row.accuracy_control == pytest.approx(0.375)
    assert row.cohens_dz == pytest.approx(diffs.mean() / diffs.std(ddof=1))
    assert row.cohens_h == pytest.approx(2 * math.asin(math.sqrt(0.75)) - 2 * math.asin(math.sqrt(0.375)))
    assert row.mcnemar_test == "durkalski" and (row.mcnemar_b, row.mcnemar_c) == (3, 1)
    assert row.mcnemar_statistic == pytest.approx(diffs.sum() ** 2 / (diffs**2).sum())
    assert row.wilcoxon_v == 4 + 2 + 2 and not row.wilcoxon_exact  # |1| ranks 4; the three |.5| tie at rank 2
    kinds = r.delta[r.delta.model == "lab/m"].set_index("kind")
    assert kinds.loc["add", "delta"] == pytest.approx(0.25) and kinds.loc["mul", "delta"] == pytest.approx(0.5)


@pytest.fixture(scope="module")
def sim():
    data = simulate_responses(n_models=3, kinds=4, digits=3, instances=15, seeds=2, random_state=5)
    return data, code_vs_nl(instances_from_responses(data), n_boot=300, seed=1)


def test_accuracy_tables_equal_pandas_groupby(sim):
    """Accuracy per model × arm × kind, × digit and pooled over models equal plain groupby means of responses."""
    data, r = sim
    data = data.astype({"model": str, "arm": str, "kind": str})
    for level, table in (("kind", r.accuracy), ("digit", r.accuracy_by_digit)):
        expected = data.groupby(["model", "arm", level], observed=True)["is_correct"].mean()
        ours = table[table.model != ALL_MODELS].set_index(["model", "arm", level])["accuracy"]
        assert ours.sort_index().to_numpy() == pytest.approx(expected.sort_index().to_numpy())
    pooled = data.groupby("arm", observed=True)["is_correct"].mean()
    ours = r.accuracy_by_arm[r.accuracy_by_arm.model == ALL_MODELS].set_index("arm")
    assert ours["accuracy"].sort_index().to_numpy() == pytest.approx(pooled.sort_index().to_numpy())
    assert (ours["n_instances"] == 180).all()  # distinct instances, not model × instance cells
    assert (
        (r.accuracy.ci_low <= r.accuracy.accuracy + 1e-12) & (r.accuracy.accuracy <= r.accuracy.ci_high + 1e-12)
    ).all()


def test_paired_figures_equal_a_pandas_merge_of_instances(sim):
    """Per model, Δ and the tests' inputs equal a merge of per-instance means; Holm is statsmodels'."""
    from scipy import stats
    from statsmodels.stats.multitest import multipletests

    data, r = sim
    data = data.astype({"model": str, "arm": str, "problem_id": str})
    per = data.groupby(["model", "problem_id", "arm"])["is_correct"].mean().unstack("arm")
    for model, g in per.groupby(level="model"):
        diffs = g["code"] - g["nl"]
        row = r.paired.set_index("model").loc[model]
        assert row.delta == pytest.approx(diffs.mean()) and row.n_instances == len(diffs)
        assert row.t_p == pytest.approx(stats.ttest_rel(g["code"], g["nl"]).pvalue, rel=1e-9)
    assert r.paired.wilcoxon_p_holm.to_numpy() == pytest.approx(multipletests(r.paired.wilcoxon_p, method="holm")[1])


def test_error_df_are_instance_df(sim):
    """The model × arm ANOVA's arm stratum has (instances − 1) error df: 179 for 180 instances, however
    many seeds answered them."""
    _, r = sim
    residuals = r.anova.table[r.anova.table.term == "Residuals"].set_index("stratum")["df"]
    assert residuals["problem_id:arm"] == 179 and residuals["problem_id:model"] == 2 * 179


def test_same_seed_same_intervals(sim):
    """The bootstrap is seeded: rerunning gives identical intervals."""
    data, r = sim
    again = code_vs_nl(instances_from_responses(data), n_boot=300, seed=1)
    pd.testing.assert_frame_equal(r.accuracy, again.accuracy)


# ---- copying under more seeds changes nothing ---------------------------------------------------------


@st.composite
def designs(draw):
    """Small instance frames: 2–3 models, 2 kinds, 5–9 instances per kind, 1–3 replicates per cell (some
    lost), outcomes drawn per replicate; sometimes every cell has one replicate (McNemar's exact path)."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_models = draw(st.integers(2, 3))
    per_kind = draw(st.integers(5, 9))
    single = draw(st.booleans())
    rows = []
    for m in range(n_models):
        for kind in ("add", "mul"):
            for j in range(per_kind):
                rate = rng.random()
                for arm, shift in (("nl", 0.0), ("code", 0.2)):
                    n = 1 if single else int(rng.integers(0, 4))
                    if n == 0:
                        continue
                    rows.append(
                        {
                            "model": f"lab{m % 2}/m{m}",
                            "problem_id": f"{kind}-{j}",
                            "kind": kind,
                            "digit": 2 + j % 2,
                            "arm": arm,
                            "n": n,
                            "n_correct": int(rng.binomial(n, min(1.0, rate + shift))),
                        }
                    )
    return pd.DataFrame(rows)


def _every_p_and_interval(r) -> dict[str, np.ndarray]:
    """Every p-value, interval and effect size the analysis reports (counts of responses excluded)."""
    out = {
        "accuracy": r.accuracy[["accuracy", "ci_low", "ci_high"]].to_numpy(float),
        "accuracy_by_arm": r.accuracy_by_arm[["accuracy", "ci_low", "ci_high"]].to_numpy(float),
        "accuracy_by_digit": r.accuracy_by_digit[["accuracy", "ci_low", "ci_high"]].to_numpy(float),
        "delta": r.delta[["delta", "ci_low", "ci_high", "n_instances"]].to_numpy(float),
        "paired": r.paired.drop(columns=["model", "lab", "mcnemar_test"]).to_numpy(float),
        "tests": r.tests[["n_units", "estimate", "ci_low", "ci_high", "statistic", "df", "p", "p_holm"]].to_numpy(
            float
        ),
        "pooled": np.array([r.pooled_cohens_d, r.pooled_cohens_h]),
        "glmm": r.glmm[
            [
                "n_obs",
                "log_odds",
                "se",
                "z",
                "p",
                "ci_low",
                "ci_high",
                "odds_ratio",
                "model_variance",
                "instance_variance",
            ]
        ].to_numpy(float),
    }
    for name, table in (("anova", r.anova), ("interaction", r.interaction)):
        if table is not None:
            out[name] = table.table[["df", "sum_sq", "F", "p"]].to_numpy(float)
    return out


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(designs(), st.integers(2, 6))
def test_copying_under_k_seeds_changes_no_p_value_or_interval(instances, k):
    """n and n_correct × k (every response answered k times, identically): every p-value, interval,
    effect size, test choice, ANOVA figure and GLMM estimate is unchanged."""
    before = _quiet(code_vs_nl, instances, n_boot=200, seed=3)
    after = _quiet(
        code_vs_nl, instances.assign(n=instances.n * k, n_correct=instances.n_correct * k), n_boot=200, seed=3
    )
    assert after.n_responses == k * before.n_responses
    assert list(after.paired.mcnemar_test) == list(before.paired.mcnemar_test)
    ours, theirs = _every_p_and_interval(before), _every_p_and_interval(after)
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert theirs[key] == pytest.approx(ours[key], rel=1e-9, abs=1e-12, nan_ok=True), key
    assert after.verdict.outcome == before.verdict.outcome


def test_copying_responses_under_new_seed_values_changes_nothing():
    """At the response level: the same responses again under seeds 1 and 2 (as the ToolProj files were
    copied) leave the tests as they were; McNemar stays exact on one-replicate-per-instance data."""
    one = simulate_responses(n_models=2, kinds=3, digits=2, instances=12, seeds=1, random_state=9)
    copies = pd.concat([one.assign(seed=s) for s in (0, 1, 2)], ignore_index=True)
    a = _quiet(code_vs_nl, instances_from_responses(one), n_boot=200)
    b = _quiet(code_vs_nl, instances_from_responses(copies), n_boot=200)
    assert set(a.paired.mcnemar_test) == {"exact"} and set(b.paired.mcnemar_test) == {"exact"}
    pa, pb = _every_p_and_interval(a), _every_p_and_interval(b)
    for key in pa:
        assert pb[key] == pytest.approx(pa[key], rel=1e-9, abs=1e-12, nan_ok=True), key


# ---- verdict, errors, outputs -------------------------------------------------------------------------


def _two_groups(strong: dict, null: dict) -> pd.DataFrame:
    a = simulate_responses(n_models=2, kinds=5, digits=2, instances=30, seeds=2, arm_offsets=strong, random_state=1)
    b = simulate_responses(n_models=2, kinds=5, digits=2, instances=30, seeds=2, arm_offsets=null, random_state=2)
    b["model"] = b["model"].astype(str).str.replace("model-", "other-")
    return instances_from_responses(pd.concat([a.astype({"model": str}), b.astype({"model": str})], ignore_index=True))


def test_criteria_success_failure_and_ambiguous():
    """A large effect everywhere is a success; no effect is a failure; too few instances is ambiguous."""
    loose = Criteria(min_instances_per_model=100)
    strong = _two_groups({"nl": 0.0, "code": 2.5}, {"nl": 0.0, "code": 2.5})
    r = code_vs_nl(strong, n_boot=200, criteria=loose)
    assert r.verdict.outcome == "success", r.verdict.summary()
    null = _two_groups({"nl": 0.0, "code": 0.0}, {"nl": 0.0, "code": 0.0})
    r = code_vs_nl(null, n_boot=200, criteria=loose)
    assert r.verdict.outcome == "failure" and "small effect" in r.verdict.reason
    mixed = _two_groups({"nl": 0.0, "code": 2.5}, {"nl": 0.0, "code": 0.0})
    r = code_vs_nl(mixed, n_boot=200, criteria=loose)
    assert r.verdict.outcome == "failure" and "not significant: 2 of 4" in r.verdict.reason
    r = code_vs_nl(strong, n_boot=200)  # the plan's 3,000 instances per model
    assert r.verdict.outcome == "ambiguous" and r.verdict.reason.startswith("sample size not met")
    assert "VERDICT: AMBIGUOUS" in r.summary()


def test_missing_arm_no_pairs_and_bad_frames_are_clear_errors():
    """Without a control arm, a pair, or a well-formed instance frame, the analysis says why."""
    d = instances_from_responses(_hand())
    with pytest.raises(ValueError, match="no responses in arm 'nl'"):
        code_vs_nl(d[d.arm == "code"])
    apart = d.assign(problem_id=np.where(d.arm == "nl", d.problem_id + "-nl", d.problem_id))
    with pytest.raises(ValueError, match="no code/nl pairs"):
        _quiet(code_vs_nl, apart)
    with pytest.raises(ValueError, match="aggregate with instances_from_responses"):
        code_vs_nl(_hand())
    with pytest.raises(ValueError, match="duplicate model × problem_id × arm"):
        code_vs_nl(pd.concat([d, d.iloc[:1]]))
    with pytest.raises(ValueError, match="0 <= n_correct <= n"):
        code_vs_nl(d.assign(n_correct=d.n + 1))
    with pytest.raises(ValueError, match="more than one kind"):
        code_vs_nl(d.assign(kind=np.where(d.arm == "nl", "other", d.kind)))


def test_outputs_render_and_name_the_unit_and_tests(sim):
    """JSON is strict and names the unit and each test's R function; summary and LaTeX say them too."""
    _, r = sim
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    for key in ("paired", "tests", "accuracy", "accuracy_by_arm", "delta", "anova_model_arm", "criteria", "bootstrap"):
        assert d[key]
    assert d["unit"].startswith("problem instance") and "wilcox.test" in d["methods"]["wilcoxon"]
    assert d["anova_model_arm"]["formula"] == "aov(y ~ model*arm + Error(problem_id/(model*arm)))"
    assert {t["test"] for t in d["tests"]} == {"glmm_arm", "wilcoxon", "paired_t", "mcnemar_durkalski"}
    assert all(t["unit"] == "instance" for t in d["tests"] if t["test"] != "glmm_arm")
    # the GLMM: every kind pooled, then each kind; odds ratio = exp(log-odds), its interval too
    glmm = d["glmm"]
    assert [g["kind"] for g in glmm] == ["all", *sorted({k for k in r.accuracy["kind"] if k != "all"})]
    for g in glmm:
        assert g["odds_ratio"] == pytest.approx(math.exp(g["log_odds"]))
        assert g["or_ci_low"] < g["odds_ratio"] < g["or_ci_high"] and g["p"] > 0
    assert "Primary effect: binomial GLMM" in r.summary() and "Odds ratio" in r.latex()
    text, latex = r.summary(), r.latex()
    assert "Unit of every test and interval: the problem instance" in text and "Durkalski" in text
    assert "Error: problem_id:model" in text and "the unit is the problem instance" in latex
    for model in r.models:
        assert model in text and model.replace("_", r"\_") in latex
    assert math.isfinite(r.pooled_cohens_d)


def test_underflowing_p_values_print_as_below_1e_300_never_0():
    """3,000 instances solved only by code: McNemar's and the paired t's p underflow; they print `< 1e-300`
    in the console and LaTeX, and JSON keeps the float."""
    n = 3000
    frame = pd.DataFrame(
        {
            "model": "lab/m",
            "problem_id": [f"p{i:05d}" for i in range(n)] * 2,
            "kind": "add",
            "digit": 2,
            "arm": ["code"] * n + ["nl"] * n,
            "n": 1,
            "n_correct": [1] * n + [1] * 10 + [0] * (n - 10),
        }
    )
    r = code_vs_nl(frame, n_boot=100)
    row = r.paired.iloc[0]
    assert row.mcnemar_test == "exact" and row.mcnemar_p < 1e-300
    text, latex = r.summary(), r.latex()
    line = next(x for x in text.splitlines() if "2990/0" in x)  # the model's row: b/c = 2990/0
    assert line.endswith("exact  < 1e-300") and " 0 " not in line and "0.0 " not in line
    assert "$<10^{-300}$" in latex
    assert json.loads(json.dumps(r.to_dict()))["paired"][0]["mcnemar_p"] == row.mcnemar_p


def test_model_without_the_control_arm_is_left_out_of_the_tests():
    """A model with only code responses keeps its accuracy but is not tested (and not counted in m)."""
    data = simulate_responses(n_models=3, kinds=2, digits=2, instances=10, seeds=1).astype({"model": str, "arm": str})
    data = data[~((data.model == "synthetic/model-2") & (data.arm == "nl"))]
    r = code_vs_nl(instances_from_responses(data), n_boot=100)
    assert list(r.paired.model) == ["synthetic/model-0", "synthetic/model-1"]
    assert "synthetic/model-2" in set(r.accuracy_by_arm.model) and "synthetic/model-2" in r.summary()
    assert r.paired.wilcoxon_p_bonferroni.to_numpy() == pytest.approx(np.minimum(1, 2 * r.paired.wilcoxon_p.to_numpy()))
    per_model = r.instances_per_model.set_index("model")
    assert (
        per_model.loc["synthetic/model-2", "n_paired"] == 0 and per_model.loc["synthetic/model-2", "n_treatment"] == 40
    )


def test_incomplete_instances_leave_the_anova_with_a_note():
    """An instance one model did not answer under both arms is left out of the repeated-measures ANOVA,
    and the result says how many."""
    data = instances_from_responses(simulate_responses(n_models=2, kinds=2, digits=1, instances=10, seeds=2))
    lost = (data.model == "synthetic/model-1") & (data.arm == "code") & data.problem_id.isin(["p0000000", "p0000001"])
    r = code_vs_nl(data[~lost], n_boot=100)
    assert r.anova.n_subjects == 18 and r.anova.n_dropped == 2
    assert any("2 instances lack" in n for n in r.notes)
