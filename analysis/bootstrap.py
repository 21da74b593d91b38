"""The cluster bootstrap over problem instances, vectorised.

A problem instance is asked of every model under every arm and seed, so its responses are not
independent: the instance is the unit that is resampled (the cluster). Resampling is stratified by the
design cell (kind × digit). A statistic that is a ratio of sums over instances (accuracy = Σ correct /
Σ answered; paired delta = Σ per-instance difference / Σ paired instances) is then a matrix product of
the replicate's instance weights with the per-instance sums, for every statistic at once. The same
replicates serve every model and arm, so paired differences keep their pairing.

Each replicate is Rao & Wu's (1988) rescaled bootstrap (R survey's `as.svrepdesign(type =
"subbootstrap")`): in a stratum of n instances it draws n − 1 with replacement and weights each draw
n / (n − 1). Drawing all n, the plain bootstrap, shrinks a stratum's variance by (n − 1)/n, which is what
made 95% intervals cover 87% of the time with 3 instances per cell; the n − 1 draw makes the replicate
variance the unbiased one. A stratum of one instance has no variance to estimate and stays fixed; cells
under `MIN_INSTANCES` instances get a `SmallCellWarning` from the analyses.

Binary outcomes make many instances identical (the same correct/answered counts in every cell); a
stratum with few distinct rows draws multinomial counts per distinct row instead of per instance, which
is the same bootstrap distribution with far fewer random draws.
"""

from __future__ import annotations

import numpy as np

N_BOOT = 1000
MIN_INSTANCES = 5  # fewer instances in a cell: its interval undercovers, and the analyses warn
CHUNK_CELLS = 4_000_000  # replicate × instance counts held at once (32 MB of float64)


class SmallCellWarning(UserWarning):
    """A bootstrap interval rests on fewer than MIN_INSTANCES instances: its coverage is below 95%."""


def stratum_sums(
    values: np.ndarray, strata: np.ndarray, n_strata: int, n_boot: int = N_BOOT, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Per-stratum sums of `values` (R statistics × I instances): the observed (S, R) and the bootstrap
    replicates (B, S, R), resampling instances within each stratum (n − 1 draws of n, weight n/(n − 1)).

    `strata` gives each instance's stratum (0 … S−1). Seeded: the same inputs give the same replicates.
    """
    values = np.asarray(values, dtype=float)
    strata = np.asarray(strata)
    n_rows = values.shape[0]
    observed = np.zeros((n_strata, n_rows))
    replicates = np.zeros((n_boot, n_strata, n_rows))
    order = np.argsort(strata, kind="stable")
    bounds = np.searchsorted(strata[order], np.arange(n_strata + 1))
    rng = np.random.default_rng(seed)
    for s in range(n_strata):
        members = order[bounds[s] : bounds[s + 1]]
        size = len(members)
        if size == 0:
            continue
        block = values[:, members].T  # (I_s, R)
        observed[s] = block.sum(axis=0)
        if size == 1:
            replicates[:, s] = observed[s]
            continue
        draws_per_replicate, weight = size - 1, size / (size - 1)
        patterns, freq = np.unique(block, axis=0, return_counts=True)
        if 4 * len(patterns) <= size:
            # A replicate's sums depend only on how often each distinct row is drawn, and those counts are
            # multinomial(n − 1, row frequencies): the same distribution at a fraction of the draws.
            counts = rng.multinomial(draws_per_replicate, freq / size, size=n_boot)
            replicates[:, s] = weight * (counts @ patterns)
            continue
        step = max(1, CHUNK_CELLS // size)
        for start in range(0, n_boot, step):
            rows = min(step, n_boot - start)
            draws = rng.integers(0, size, size=(rows, draws_per_replicate))
            draws += (np.arange(rows) * size)[:, None]
            counts = np.bincount(draws.ravel(), minlength=rows * size).reshape(rows, size)
            replicates[start : start + rows, s] = weight * (counts @ block)
    return observed, replicates


def percentile_interval(replicates: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over the first axis, ignoring replicates where the statistic is undefined."""
    tail = 100 * (1 - level) / 2
    if not np.isnan(replicates).any():  # the common case, vectorised (nanpercentile loops per column)
        lo, hi = np.percentile(replicates, [tail, 100 - tail], axis=0)
        return lo, hi
    with np.errstate(invalid="ignore"):
        all_nan = np.all(np.isnan(replicates), axis=0)
        filled = np.where(all_nan[None, ...], 0.0, replicates)
        lo, hi = np.nanpercentile(filled, [tail, 100 - tail], axis=0)
    return np.where(all_nan, np.nan, lo), np.where(all_nan, np.nan, hi)


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with NaN where den is 0 (a replicate that drew none of a cell's instances)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
