"""Repeated-measures ANOVA with the instance as subject: against statsmodels' AnovaRM and OLS, and by
its invariances (R's aov figures are in test_stats_r_reference.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.stats.anova import AnovaRM

from evalhouse.analysis.anova import split_plot, within_two_way


def _cube(n_sub: int = 25, n_a: int = 4, n_b: int = 2, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    subject = rng.normal(0, 1, n_sub)[:, None, None]
    a_effect = np.linspace(0, 0.6, n_a)[None, :, None]
    b_effect = np.array([0.0, 0.4])[None, None, :n_b]
    return subject + a_effect + b_effect + rng.normal(0, 0.5, (n_sub, n_a, n_b))


def test_within_two_way_equals_statsmodels_anovarm():
    """F and p of both within factors and their interaction equal AnovaRM's (each against its own stratum)."""
    y = _cube()
    frame = pd.DataFrame(
        [(i, a, b, y[i, a, b]) for i in range(y.shape[0]) for a in range(y.shape[1]) for b in range(y.shape[2])],
        columns=["s", "a", "b", "y"],
    )
    ref = AnovaRM(frame, "y", "s", within=["a", "b"]).fit().anova_table
    ours = within_two_way(y, ("a", "b")).table.set_index("term")
    for term in ("a", "b", "a:b"):
        assert ours.loc[term, "F"] == pytest.approx(ref.loc[term, "F Value"], rel=1e-9)
        assert ours.loc[term, "p"] == pytest.approx(ref.loc[term, "Pr > F"], rel=1e-9)
        assert ours.loc[term, "df"] == ref.loc[term, "Num DF"]


def test_error_df_counts_instances_not_replicates():
    """With 25 instances, 4 models and 2 arms the model stratum's error has (25−1)(4−1) = 72 df."""
    table = within_two_way(_cube(), ("model", "arm")).table
    residuals = table[table.term == "Residuals"].set_index("stratum")["df"]
    assert residuals.to_dict() == {
        "problem_id": 24,
        "problem_id:model": 72,
        "problem_id:arm": 24,
        "problem_id:model:arm": 72,
    }


def test_strata_sums_of_squares_add_up_to_the_total():
    """The strata partition the total sum of squares about the grand mean."""
    y = _cube()
    table = within_two_way(y, ("a", "b")).table
    assert table["sum_sq"].sum() == pytest.approx(np.sum((y - y.mean()) ** 2), rel=1e-12)


@pytest.mark.filterwarnings("ignore:The design matrix is rank-deficient")
def test_split_plot_with_unequal_groups_equals_ols_decomposition():
    """One within factor and an unbalanced between factor: the between test is a one-way ANOVA of the
    subject means; the within-stratum interaction SS is the drop in RSS of the OLS cell model."""
    rng = np.random.default_rng(3)
    groups = np.array(["g1"] * 7 + ["g2"] * 12 + ["g3"] * 4)
    y = rng.normal(size=(len(groups), 3)) + (groups == "g2")[:, None] * np.array([0, 0.5, 1.0])
    table = split_plot(y, groups, ("m", "g")).table.set_index("term")
    means = pd.DataFrame({"y": y.mean(axis=1), "g": groups})
    one_way = smf.ols("y ~ C(g)", means).fit()
    assert table.loc["g", "F"] == pytest.approx(one_way.fvalue, rel=1e-9)
    long = pd.DataFrame(
        [(s, f"m{j}", groups[s], y[s, j]) for s in range(len(groups)) for j in range(3)], columns=["s", "m", "g", "y"]
    )
    additive = smf.ols("y ~ C(s) + C(m)", long).fit().ssr
    full = smf.ols("y ~ C(s) + C(m) + C(m):C(g)", long).fit().ssr
    assert table.loc["m:g", "sum_sq"] == pytest.approx(additive - full, rel=1e-9)
    assert table.loc["m:g", "df"] == 4 and table[table.index == "Residuals"]["df"].tolist() == [20, 40]


def test_shift_and_subject_offsets_change_only_the_subject_stratum():
    """Adding a constant per subject moves the subject stratum only; every within test is unchanged."""
    y = _cube()
    shifted = y + np.arange(y.shape[0])[:, None, None] * 3.0 + 1e6
    a, b = within_two_way(y).table, within_two_way(shifted).table
    within = a.stratum != "problem_id"
    assert a[within]["F"].to_numpy() == pytest.approx(b[within]["F"].to_numpy(), rel=1e-6, nan_ok=True)
    assert within_two_way(shifted).p("a:b") == pytest.approx(within_two_way(y).p("a:b"), rel=1e-6)
    assert within_two_way(y).p("no such term") is None
