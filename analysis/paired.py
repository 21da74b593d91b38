"""Paired tests of one arm against another, on per-instance accuracies (the instance is the unit).

Each function takes one value per problem instance, never one per replicate, and equals an R function
(stored R figures in tests/reference/paired_r.json):
- `wilcoxon_signed_rank`: `wilcox.test(x, y, paired = TRUE)` with R's defaults, implemented here so the
  exact/normal switch does not move with the scipy version;
- `paired_t`: `t.test(x, y, paired = TRUE)`;
- `mcnemar_instances`: the exact McNemar test (`binom.test(b, b + c)`) when every instance is one binary
  pair, else Durkalski et al.'s (2003) clustered McNemar (`clust.bin.pair(..., method = "durkalski")`);
- `cohens_dz`, `pooled_dz`, `cohens_h`: effect sizes.

An impossible input raises instead of turning into a p-value (the legacy pipeline lost its `wilcoxon`
import behind a bare `except`, so every p-value became 1.0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats

EXACT_BELOW = 50  # R: exact <- (n < 50), n counting non-zero differences
RANK_DIGITS = 12  # significant digits of |difference| before ranking: equal fractions tie (R's digits.rank)


def _differences(differences) -> np.ndarray:
    d = np.asarray(differences, dtype=float)
    if np.isnan(d).any():
        raise ValueError("differences contain NaN")
    return d


@dataclass(frozen=True)
class Wilcoxon:
    n: int  # instances
    n_nonzero: int  # instances whose difference is not 0 (the test's effective sample)
    statistic: float  # V: the sum of the ranks of the positive differences (R's statistic)
    p_value: float  # two-sided
    p_greater: float  # one-sided: treatment > control
    exact: bool  # exact distribution (n_nonzero < 50, no ties, no zeros), else normal with corrections


@lru_cache(maxsize=64)
def _signrank_cdf(n: int) -> np.ndarray:
    """P(V ≤ v) for v = 0 … n(n+1)/2 under H0: subsets of {1…n} by their sum (R's psignrank)."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for j in range(1, n + 1):
        counts[j:] = counts[j:] + counts[:-j].copy()  # counts stay below 2^49: exact in float64
    return np.cumsum(counts) / 2.0**n


def wilcoxon_signed_rank(differences) -> Wilcoxon:
    """Wilcoxon signed-rank test of per-instance differences against 0, as R's `wilcox.test(x, y,
    paired = TRUE)`: zeros dropped; V the sum of positive ranks; exact when fewer than 50 non-zero
    differences without ties or zeros, else normal with tie and continuity correction.

    Differences are ranked on 12 significant digits, so fractions that are equal but were computed
    differently (2/3 − 1/3 and 1/3) tie; R does the same with `digits.rank = 12`. With no non-zero
    difference there is no evidence either way: p = 1 (R's p is NaN there).
    """
    d = _differences(differences)
    zeros = bool(np.any(d == 0))
    x = d[d != 0]
    n = len(x)
    if n == 0:
        return Wilcoxon(len(d), 0, 0.0, 1.0, 1.0, False)
    ranks = stats.rankdata(np.abs(_signif(x, RANK_DIGITS)))
    v = float(ranks[x > 0].sum())
    _, ties = np.unique(ranks, return_counts=True)
    has_ties = bool(np.any(ties > 1))
    if n < EXACT_BELOW and not has_ties and not zeros:
        cdf = _signrank_cdf(n)
        at_most = lambda q: float(cdf[int(q)]) if q >= 0 else 0.0
        greater = at_most(n * (n + 1) // 2 - v)  # P(V ≥ v) by the distribution's symmetry, without 1 − …
        two = min(1.0, 2 * (greater if v > n * (n + 1) / 4 else at_most(v)))
        return Wilcoxon(len(d), n, v, two, greater, True)
    z = v - n * (n + 1) / 4
    sigma = math.sqrt(n * (n + 1) * (2 * n + 1) / 24 - float(np.sum(ties**3 - ties)) / 48)
    two = 2 * float(stats.norm.sf(abs(z - np.sign(z) * 0.5) / sigma))  # R: z − sign(z)·0.5
    greater = float(stats.norm.sf((z - 0.5) / sigma))
    return Wilcoxon(len(d), n, v, min(1.0, two), greater, False)


def _signif(x: np.ndarray, digits: int) -> np.ndarray:
    """R's signif(x, digits)."""
    with np.errstate(divide="ignore"):
        scale = 10.0 ** (digits - 1 - np.floor(np.log10(np.abs(x))))
    return np.round(x * scale) / scale


@dataclass(frozen=True)
class PairedT:
    n: int
    mean: float  # mean per-instance difference
    statistic: float  # t
    df: float
    p_value: float  # two-sided
    ci_low: float  # 95% t interval of the mean difference
    ci_high: float


def paired_t(differences) -> PairedT:
    """Paired t-test on per-instance differences, as R's `t.test(x, y, paired = TRUE)`; NaN where R
    stops ("not enough observations", "data are essentially constant")."""
    d = _differences(differences)
    n = len(d)
    mean = float(d.mean()) if n else math.nan
    sd = float(d.std(ddof=1)) if n > 1 else math.nan
    if n < 2 or not sd > 0:
        return PairedT(n, mean, math.nan, n - 1.0, math.nan, math.nan, math.nan)
    se = sd / math.sqrt(n)
    t = mean / se
    q = float(stats.t.ppf(0.975, n - 1))
    return PairedT(n, mean, t, n - 1.0, float(2 * stats.t.sf(abs(t), n - 1)), mean - q * se, mean + q * se)


@dataclass(frozen=True)
class McNemar:
    test: str  # "exact" (every instance one binary pair) or "durkalski" (clustered)
    n_instances: int  # instances with both arms
    treatment_better: int  # instances where the treatment's accuracy is higher (b when each is one pair)
    control_better: int  # instances where the control's is higher (c)
    statistic: float  # exact: b; durkalski: X² = (Σ dᵢ)² / Σ dᵢ²
    p_value: float  # two-sided


def mcnemar_instances(treatment, control) -> McNemar:
    """McNemar's test of marginal homogeneity with the instance as the cluster.

    `treatment` and `control` are per-instance accuracies (correct / answered over the replicates). When
    every one is 0 or 1, each instance is one binary pair (one replicate per arm, or replicates that all
    agree, as copies do) and the test is McNemar's exact test, R's `binom.test(b, b + c)`. Otherwise it is
    Durkalski et al.'s (2003) clustered McNemar, X² = (Σ dᵢ)² / Σ dᵢ² on dᵢ = (bᵢ − cᵢ)/nᵢ, the difference
    of the instance's accuracies, against χ²₁: R's `clust.bin.pair(ak, bk, ck, dk, method = "durkalski")`.
    On one pair per instance X² is McNemar's (b − c)² / (b + c). Both use only the per-instance
    accuracies, so replicating every response k times changes neither.
    """
    t = np.asarray(treatment, dtype=float)
    c = np.asarray(control, dtype=float)
    if t.shape != c.shape:
        raise ValueError("treatment and control need one accuracy per instance each")
    if np.isnan(t).any() or np.isnan(c).any() or (t < 0).any() or (t > 1).any() or (c < 0).any() or (c > 1).any():
        raise ValueError("per-instance accuracies must lie in [0, 1]")
    d = t - c
    better, worse = int(np.sum(d > 0)), int(np.sum(d < 0))
    binary = bool(np.all((t == 0) | (t == 1)) and np.all((c == 0) | (c == 1)))
    if binary:
        return McNemar("exact", len(d), better, worse, float(better), mcnemar_exact_p(better, worse))
    denominator = float(np.sum(d * d))
    if denominator == 0:
        return McNemar("durkalski", len(d), better, worse, 0.0, 1.0)
    x2 = float(np.sum(d)) ** 2 / denominator
    return McNemar("durkalski", len(d), better, worse, x2, float(stats.chi2.sf(x2, 1)))


def mcnemar_exact_p(b: int, c: int) -> float:
    """Two-sided exact McNemar p: binomial on the b + c discordant pairs (R's `binom.test(b, b + c)`)."""
    if b + c == 0:
        return 1.0
    return min(1.0, 2 * float(stats.binom.cdf(min(b, c), b + c, 0.5)))


def cohens_dz(differences) -> float:
    """d_z: the mean paired difference over the SD of the differences (NaN when they do not vary)."""
    d = _differences(differences)
    if len(d) < 2:
        return math.nan
    sd = float(d.std(ddof=1))
    return float(d.mean() / sd) if sd > 0 else math.nan


def pooled_dz(differences, groups) -> float:
    """d_z over several models without their differences between models: the mean difference over the
    pooled within-model SD, √(Σ_m Σ_i (d_mi − d̄_m)² / (N − M)) (each model's differences centred on
    their own mean), so a model with a larger effect than another does not inflate the SD."""
    d = _differences(differences)
    codes = np.unique(np.asarray(groups), return_inverse=True)[1].ravel()
    n_groups = int(codes.max(initial=-1)) + 1
    dof = len(d) - n_groups
    if dof < 1:
        return math.nan
    means = np.bincount(codes, weights=d, minlength=n_groups) / np.bincount(codes, minlength=n_groups)
    sd = math.sqrt(float(np.sum((d - means[codes]) ** 2)) / dof)
    return float(d.mean() / sd) if sd > 0 else math.nan


def cohens_h(p_treatment: float, p_control: float) -> float:
    """Cohen's h for two proportions: 2·asin(√p_t) − 2·asin(√p_c)."""
    if not (0 <= p_treatment <= 1 and 0 <= p_control <= 1):
        return math.nan
    return 2 * math.asin(math.sqrt(p_treatment)) - 2 * math.asin(math.sqrt(p_control))


def adjust(p_values: list[float], method: str) -> list[float]:
    """Family-wise adjusted p-values, R's `p.adjust(p, method)` for `bonferroni` and `holm`; NaN stays NaN
    and is not counted. Written out because statsmodels' Holm runs a full gc.collect() per call (0.15 s in
    a large process)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(len(p), math.nan)
    ok = np.flatnonzero(~np.isnan(p))
    n = len(ok)
    if method == "bonferroni":
        out[ok] = np.minimum(1.0, n * p[ok])
    elif method == "holm":
        order = ok[np.argsort(p[ok], kind="stable")]
        out[order] = np.minimum(1.0, np.maximum.accumulate((n - np.arange(n)) * p[order]))
    else:
        raise ValueError(f"unknown adjustment {method!r}: bonferroni or holm")
    return out.tolist()
