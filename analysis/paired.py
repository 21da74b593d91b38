"""Paired tests of one arm against another: Wilcoxon signed-rank, exact McNemar, paired Cohen's d.

The legacy pipeline lost its `wilcoxon` import behind a bare `except`, so every p-value became 1.0.
Here the tests come straight from scipy and statsmodels and an impossible input raises instead of
turning into a p-value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests


@dataclass(frozen=True)
class Wilcoxon:
    n: int  # instances
    n_nonzero: int  # instances whose difference is not 0 (the test's effective sample)
    statistic: float
    p_value: float  # two-sided
    p_greater: float  # one-sided: treatment > control


def wilcoxon_signed_rank(differences: np.ndarray) -> Wilcoxon:
    """Wilcoxon signed-rank test of per-instance differences against 0 (zeros dropped, as R's
    `wilcox.test`; normal approximation with tie correction when there are ties, exact otherwise).

    With no non-zero difference there is no evidence either way: p = 1 by definition, not by accident.
    """
    d = np.asarray(differences, dtype=float)
    if np.isnan(d).any():
        raise ValueError("differences contain NaN")
    nonzero = int(np.count_nonzero(d))
    if nonzero == 0:
        return Wilcoxon(len(d), 0, 0.0, 1.0, 1.0)
    two = stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
    one = stats.wilcoxon(d, zero_method="wilcox", alternative="greater")
    return Wilcoxon(len(d), nonzero, float(two.statistic), float(two.pvalue), float(one.pvalue))


@dataclass(frozen=True)
class McNemar:
    n_pairs: int
    both: int
    treatment_only: int  # b: treatment correct, control wrong
    control_only: int  # c
    neither: int
    p_value: float  # exact (binomial on the b + c discordant pairs), two-sided


def mcnemar_exact(treatment: np.ndarray, control: np.ndarray) -> McNemar:
    """Exact McNemar test over paired binary outcomes."""
    t = np.asarray(treatment, dtype=bool)
    c = np.asarray(control, dtype=bool)
    both = int(np.sum(t & c))
    b = int(np.sum(t & ~c))
    cc = int(np.sum(~t & c))
    neither = int(np.sum(~t & ~c))
    p = 1.0 if b + cc == 0 else float(mcnemar([[both, b], [cc, neither]], exact=True).pvalue)
    return McNemar(len(t), both, b, cc, neither, p)


def cohens_d_paired(differences: np.ndarray) -> float:
    """d_z: the mean paired difference over the SD of the differences (NaN when they do not vary)."""
    d = np.asarray(differences, dtype=float)
    if len(d) < 2:
        return float("nan")
    sd = float(d.std(ddof=1))
    return float(d.mean() / sd) if sd > 0 else float("nan")


def adjust(p_values: list[float], method: str) -> list[float]:
    """Family-wise adjusted p-values (`bonferroni` or `holm`), via statsmodels' multipletests."""
    p = np.asarray(p_values, dtype=float)
    if len(p) == 0:
        return []
    ok = ~np.isnan(p)
    out = np.full(len(p), math.nan)
    if ok.any():
        out[ok] = multipletests(p[ok], method=method)[1]
    return out.tolist()
