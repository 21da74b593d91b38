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
variance the unbiased one. Cells (kind × digit) of fewer than `MIN_INSTANCES` instances are
resampled together with the other small cells of their kind, or of the whole design
(`merge_small_strata`): alone, a cell of one instance would never vary. Intervals that rest on fewer than
`MIN_INSTANCES` instances get a `SmallCellWarning` from the analyses.

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


def merge_small_strata(sizes: np.ndarray, parent: np.ndarray, minimum: int = MIN_INSTANCES) -> np.ndarray:
    """The stratum each cell is resampled in: its own when it holds `minimum` instances or more; else the
    small cells of one parent (a kind's digits) together, and groups that are still small all in one.

    A cell of one instance resampled alone never varies (its interval would be a point), and the few
    instances of a small cell say little about its variance; merged, they are resampled together, which
    at worst overstates the variance (strata that differ in mean), never hides it."""
    sizes, parent = np.asarray(sizes), np.asarray(parent)
    n_cells = len(sizes)
    key = np.arange(n_cells)
    small = (sizes > 0) & (sizes < minimum)
    key[small] = n_cells + parent[small]
    group_size = np.bincount(key, weights=sizes, minlength=2 * n_cells + 1)
    still_small = small & (group_size[key] < minimum)
    key[still_small] = 2 * n_cells
    return np.unique(key, return_inverse=True)[1].ravel()


def cell_sums(
    values: np.ndarray,
    cells: np.ndarray,
    n_cells: int,
    n_boot: int = N_BOOT,
    seed: int = 0,
    strata: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-cell sums of `values` (R statistics × I instances): the observed (C, R) and the bootstrap
    replicates (B, C, R). `cells` gives each instance's cell (0 … C−1); instances are resampled within
    strata, `strata` mapping each cell to its stratum (default: every cell its own), n − 1 draws of the
    stratum's n instances, each weighted n/(n − 1). Seeded: the same inputs give the same replicates.
    """
    values = np.asarray(values, dtype=float)
    cells = np.asarray(cells)
    cell_stratum = np.arange(n_cells) if strata is None else np.asarray(strata)
    instance_stratum = cell_stratum[cells]
    n_strata = int(cell_stratum.max(initial=-1)) + 1
    n_rows = values.shape[0]
    observed = np.zeros((n_cells, n_rows))
    np.add.at(observed, cells, values.T)
    replicates = np.zeros((n_boot, n_cells, n_rows))
    order = np.argsort(instance_stratum, kind="stable")
    bounds = np.searchsorted(instance_stratum[order], np.arange(n_strata + 1))
    rng = np.random.default_rng(seed)
    for s in range(n_strata):
        members = order[bounds[s] : bounds[s + 1]]
        size = len(members)
        if size == 0:
            continue
        block = values[:, members].T  # (I_s, R)
        member_cells = cells[members]
        if size == 1:
            replicates[:, member_cells[0]] = block[0]
            continue
        draws_per_replicate, weight = size - 1, size / (size - 1)
        keyed = np.column_stack([member_cells, block])
        patterns, freq = np.unique(keyed, axis=0, return_counts=True)
        if 4 * len(patterns) <= size:
            # A replicate's sums depend only on how often each distinct row is drawn, and those counts are
            # multinomial(n − 1, row frequencies): the same distribution at a fraction of the draws.
            counts = rng.multinomial(draws_per_replicate, freq / size, size=n_boot)
            _add_by_cell(replicates, slice(None), weight * counts, patterns[:, 0].astype(np.int64), patterns[:, 1:])
            continue
        step = max(1, CHUNK_CELLS // size)
        for start in range(0, n_boot, step):
            rows = min(step, n_boot - start)
            draws = rng.integers(0, size, size=(rows, draws_per_replicate))
            draws += (np.arange(rows) * size)[:, None]
            counts = np.bincount(draws.ravel(), minlength=rows * size).reshape(rows, size)
            _add_by_cell(replicates, slice(start, start + rows), weight * counts, member_cells, block)
    return observed, replicates


def _add_by_cell(replicates: np.ndarray, rows: slice, counts: np.ndarray, row_cells: np.ndarray, block) -> None:
    """replicates[rows, c] = counts[:, rows of cell c] @ block[rows of cell c], for each cell present."""
    present = np.unique(row_cells)
    if len(present) == 1:
        replicates[rows, present[0]] = counts @ block
        return
    for c in present:
        sel = row_cells == c
        replicates[rows, c] = counts[:, sel] @ block[sel]


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
