"""Paired tests by hand and on edge cases (R's own figures are in test_stats_r_reference.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from evalhouse.analysis.paired import (
    adjust,
    cohens_dz,
    cohens_h,
    mcnemar_exact_p,
    mcnemar_instances,
    paired_t,
    pooled_dz,
    wilcoxon_signed_rank,
)


def test_wilcoxon_all_positive_by_hand():
    """Eight positive differences: V = 36, the exact two-sided p is 2/2⁸ and the one-sided 1/2⁸."""
    w = wilcoxon_signed_rank(np.arange(1, 9, dtype=float))
    assert w.exact and w.statistic == 36
    assert math.isclose(w.p_value, 2 / 2**8, rel_tol=1e-12) and math.isclose(w.p_greater, 1 / 2**8, rel_tol=1e-12)


def test_wilcoxon_statistic_is_the_positive_rank_sum_not_the_minimum():
    """R reports V = W+, even when W− is the smaller (scipy's two-sided statistic is min(W+, W−))."""
    assert wilcoxon_signed_rank(np.array([-1.0, -2, -3, -4, 5])).statistic == 5
    assert wilcoxon_signed_rank(np.array([1.0, 2, 3, 4, -5])).statistic == 10
    assert stats.wilcoxon([1.0, 2, 3, 4, -5]).statistic == 5


def test_wilcoxon_switches_to_normal_on_ties_zeros_or_50():
    """Exact only below 50 non-zero differences with no tie and no zero, as R decides."""
    assert wilcoxon_signed_rank(np.arange(1, 50, dtype=float)).exact
    assert not wilcoxon_signed_rank(np.arange(1, 51, dtype=float)).exact
    assert not wilcoxon_signed_rank(np.array([1.0, 2, 3, 0])).exact  # a zero
    assert not wilcoxon_signed_rank(np.array([1.0, 2, 2, 3])).exact  # a tie


def test_wilcoxon_ties_equal_fractions_computed_differently():
    """1 − 2/3 and 1/3 − 0 differ in the last bit as doubles; ranked on 12 digits they tie (R's digits.rank)."""
    assert 1 - 2 / 3 != 1 / 3
    w = wilcoxon_signed_rank(np.array([1 - 2 / 3, 1 / 3 - 0, 0.5, 0.75]))
    assert not w.exact  # a tie: normal approximation
    assert w.statistic == 1.5 + 1.5 + 3 + 4


def test_wilcoxon_without_differences_is_one_and_nan_raises():
    """No non-zero difference means no evidence (p = 1); a NaN difference is an error, not a p-value."""
    assert wilcoxon_signed_rank(np.zeros(10)).p_value == 1.0
    with pytest.raises(ValueError):
        wilcoxon_signed_rank(np.array([1.0, np.nan]))


def test_wilcoxon_strong_effect_is_not_one():
    """The legacy bug (a lost import turned every p into 1.0) cannot pass: a clear effect gives a tiny p."""
    rng = np.random.default_rng(0)
    assert wilcoxon_signed_rank(rng.normal(0.5, 0.3, 200)).p_value < 1e-20


def test_paired_t_by_hand_and_degenerate():
    """t = mean / (sd/√n) with n − 1 df; constant differences give NaN, as R refuses them."""
    d = np.array([0.5, 1.0, 0.0, 0.5, 1.0])
    t = paired_t(d)
    assert t.statistic == pytest.approx(0.6 / (d.std(ddof=1) / math.sqrt(5))) and t.df == 4
    assert t.ci_low < 0.6 < t.ci_high
    assert math.isnan(paired_t(np.ones(4)).p_value) and math.isnan(paired_t(np.ones(1)).statistic)


def test_mcnemar_exact_by_hand():
    """b = 10, c = 2 on instances of one replicate: p = 2·P(X ≤ 2 | 12, ½) = 158/4096."""
    treatment = np.array([1] * 30 + [1] * 10 + [0] * 2 + [0] * 8, dtype=float)
    control = np.array([1] * 30 + [0] * 10 + [1] * 2 + [0] * 8, dtype=float)
    m = mcnemar_instances(treatment, control)
    assert (m.test, m.treatment_better, m.control_better, m.n_instances) == ("exact", 10, 2, 50)
    assert math.isclose(m.p_value, 158 / 4096, rel_tol=1e-12)
    assert mcnemar_exact_p(0, 0) == 1.0 and mcnemar_instances(treatment, treatment).p_value == 1.0


def test_durkalski_by_hand_and_on_one_pair_per_instance():
    """Durkalski's X² = (Σd)²/Σd² on per-instance accuracy differences; on 0/1 data it is McNemar's
    (b − c)²/(b + c), which the exact test replaces there."""
    t = np.array([2 / 3, 1, 1 / 3, 1, 0.5])
    c = np.array([1 / 3, 0, 1 / 3, 1, 1])
    d = t - c
    m = mcnemar_instances(t, c)
    assert m.test == "durkalski" and m.statistic == pytest.approx(d.sum() ** 2 / (d * d).sum())
    assert m.p_value == pytest.approx(stats.chi2.sf(m.statistic, 1))
    assert (m.treatment_better, m.control_better) == (2, 1)
    b_c = np.array([1.0] * 7 + [0.0] * 3), np.array([0.0] * 7 + [1.0] * 3)
    d = b_c[0] - b_c[1]
    assert d.sum() ** 2 / (d * d).sum() == pytest.approx((7 - 3) ** 2 / (7 + 3))


def test_mcnemar_rejects_values_that_are_not_accuracies():
    """Counts or NaN instead of per-instance accuracies are an error, not a p-value."""
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        mcnemar_instances(np.array([2.0, 0]), np.array([0.0, 1]))
    with pytest.raises(ValueError, match="one accuracy per instance"):
        mcnemar_instances(np.array([1.0]), np.array([0.0, 1]))


def test_effect_sizes_by_hand():
    """d_z of [1, 0, 1, 1, 0] is 0.6/√0.3; Cohen's h of 0.8 vs 0.5 is 2·asin√0.8 − 2·asin√0.5."""
    assert math.isclose(cohens_dz(np.array([1, 0, 1, 1, 0.0])), 0.6 / math.sqrt(0.3), rel_tol=1e-12)
    assert math.isnan(cohens_dz(np.ones(5)))
    assert cohens_h(0.8, 0.5) == pytest.approx(2 * math.asin(math.sqrt(0.8)) - 2 * math.asin(math.sqrt(0.5)))
    assert cohens_h(0.5, 0.5) == 0 and math.isnan(cohens_h(1.5, 0.5))


def test_pooled_dz_leaves_out_the_spread_between_models():
    """Two models whose differences vary alike but centre on 0.1 and 0.5: the pooled SD is the within-model
    SD, so pooled d_z equals the grand mean over that SD, larger than a d_z over the mixed SD."""
    a = np.array([0.0, 0.1, 0.2, 0.1])
    b = a + 0.4
    d, groups = np.concatenate([a, b]), np.repeat(["m1", "m2"], 4)
    within = math.sqrt((np.sum((a - a.mean()) ** 2) + np.sum((b - b.mean()) ** 2)) / (8 - 2))
    assert pooled_dz(d, groups) == pytest.approx(d.mean() / within)
    assert pooled_dz(d, groups) > cohens_dz(d)
    assert pooled_dz(a, np.zeros(4)) == pytest.approx(cohens_dz(a))


def test_bonferroni_and_holm_by_hand():
    """[0.01, 0.04, 0.03]: Bonferroni ×3; Holm 0.03, then max(0.03·2, 0.04·1) carried up."""
    assert adjust([0.01, 0.04, 0.03], "bonferroni") == pytest.approx([0.03, 0.12, 0.09])
    assert adjust([0.01, 0.04, 0.03], "holm") == pytest.approx([0.03, 0.06, 0.06])
    assert adjust([0.5, 0.9], "bonferroni") == pytest.approx([1.0, 1.0])
    assert adjust([], "holm") == []


def test_adjustments_equal_statsmodels_and_skip_nan():
    """Holm and Bonferroni equal statsmodels' multipletests on random p-values; a NaN is left out of m."""
    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(2).random(40) ** 3
    for method in ("holm", "bonferroni"):
        assert adjust(p.tolist(), method) == pytest.approx(multipletests(p, method=method)[1], rel=1e-12)
    with_nan = adjust([0.01, float("nan"), 0.02], "holm")
    assert math.isnan(with_nan[1]) and with_nan[0] == pytest.approx(0.02) and with_nan[2] == pytest.approx(0.02)
