"""Paired tests against values computed independently (R's wilcox.test / binom.test, and by hand)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evalhouse.analysis.paired import adjust, cohens_d_paired, mcnemar_exact, wilcoxon_signed_rank

# R 4.2: x <- c(0.5, 1, 1, 0, -0.5, 1, 0.5, 0, 1, 1, -1, 0.5, 1, 1, 0.5)
#        wilcox.test(x, exact = FALSE, correct = FALSE)  -> V = 78.5, p = 0.0171665098785
#        ... alternative = "greater"                     -> p = 0.00858325493925
TIED = [0.5, 1, 1, 0, -0.5, 1, 0.5, 0, 1, 1, -1, 0.5, 1, 1, 0.5]


def test_wilcoxon_with_ties_and_zeros_matches_r():
    """Zeros dropped, ties averaged, normal approximation with tie correction: R's p-values."""
    w = wilcoxon_signed_rank(np.array(TIED))
    assert w.n == 15 and w.n_nonzero == 13
    assert math.isclose(w.p_value, 0.0171665098785, rel_tol=1e-9)
    assert math.isclose(w.p_greater, 0.00858325493925, rel_tol=1e-9)


def test_wilcoxon_exact_small_sample_matches_r():
    """Without ties the exact distribution is used: R's wilcox.test(y) gives V = 30, p = 0.109375."""
    w = wilcoxon_signed_rank(np.array([1.2, 3.4, -0.7, 2.2, 5.1, 0.3, 4.4, -1.9]))
    assert math.isclose(w.p_value, 0.109375, rel_tol=1e-12)


def test_wilcoxon_all_positive_by_hand():
    """Eight positive differences: the exact two-sided p is 2/2⁸."""
    w = wilcoxon_signed_rank(np.arange(1, 9, dtype=float))
    assert math.isclose(w.p_value, 2 / 2**8, rel_tol=1e-12)


def test_wilcoxon_strong_effect_is_not_one():
    """The legacy bug (a lost import turned every p into 1.0) cannot pass: a clear effect gives a tiny p."""
    rng = np.random.default_rng(0)
    w = wilcoxon_signed_rank(rng.normal(0.5, 0.3, 200))
    assert w.p_value < 1e-20


def test_wilcoxon_without_differences_is_one_and_nan_raises():
    """No non-zero difference means no evidence (p = 1); a NaN difference is an error, not a p-value."""
    assert wilcoxon_signed_rank(np.zeros(10)).p_value == 1.0
    with pytest.raises(ValueError):
        wilcoxon_signed_rank(np.array([1.0, np.nan]))


def test_mcnemar_exact_by_hand():
    """b = 10, c = 2: p = 2·P(X ≤ 2 | 12, ½) = 158/4096, as R's binom.test(10, 12)."""
    treatment = np.array([1] * 30 + [1] * 10 + [0] * 2 + [0] * 8, dtype=bool)
    control = np.array([1] * 30 + [0] * 10 + [1] * 2 + [0] * 8, dtype=bool)
    m = mcnemar_exact(treatment, control)
    assert (m.both, m.treatment_only, m.control_only, m.neither) == (30, 10, 2, 8)
    assert math.isclose(m.p_value, 158 / 4096, rel_tol=1e-12)


def test_mcnemar_without_discordant_pairs_is_one():
    """Only concordant pairs: nothing to test."""
    same = np.array([1, 0, 1, 1], dtype=bool)
    assert mcnemar_exact(same, same).p_value == 1.0


def test_paired_cohens_d_by_hand():
    """d_z of [1, 0, 1, 1, 0] is 0.6 / √0.3."""
    assert math.isclose(cohens_d_paired(np.array([1, 0, 1, 1, 0.0])), 0.6 / math.sqrt(0.3), rel_tol=1e-12)
    assert math.isnan(cohens_d_paired(np.ones(5)))


def test_bonferroni_and_holm_by_hand():
    """[0.01, 0.04, 0.03]: Bonferroni ×3; Holm 0.03, then max(0.03·2, 0.04·1) carried up."""
    assert adjust([0.01, 0.04, 0.03], "bonferroni") == pytest.approx([0.03, 0.12, 0.09])
    assert adjust([0.01, 0.04, 0.03], "holm") == pytest.approx([0.03, 0.06, 0.06])
    assert adjust([0.5, 0.9], "bonferroni") == pytest.approx([1.0, 1.0])
