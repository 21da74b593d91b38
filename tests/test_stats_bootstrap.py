"""The instance-clustered bootstrap: clusters are instances, resampled within strata (Rao–Wu), seeded,
with measured coverage and a warning where cells are too small for it."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from evalhouse.analysis import bootstrap
from evalhouse.analysis.code_vs_nl import accuracy, code_vs_nl, instances_from_responses


def _clustered(instances: int, seeds: int, p: float = 0.5, random_state: int = 0) -> pd.DataFrame:
    """Each instance is answered the same way under every seed: seeds add no information."""
    rng = np.random.default_rng(random_state)
    solved = rng.random(instances) < p
    rows = [
        {
            "model": "m/one",
            "kind": "add",
            "digit": 2,
            "arm": arm,
            "seed": s,
            "sample": 0,
            "problem_id": f"p{i}",
            "is_correct": bool(solved[i]) if arm == "nl" else True,
        }
        for i in range(instances)
        for s in range(seeds)
        for arm in ("nl", "code")
    ]
    return pd.DataFrame(rows)


def test_interval_width_follows_instances_not_rows():
    """With 10 identical seeds per instance the CI is as wide as 200 instances allow, not 2,000 rows.

    The legacy 'cluster' bootstrap gave every row its own cluster and so was √10 too narrow.
    """
    r = code_vs_nl(instances_from_responses(_clustered(200, 10)), n_boot=2000)
    nl = r.accuracy_by_arm.query("model == 'm/one' and arm == 'nl'").iloc[0]
    p = nl["accuracy"]
    instance_se = math.sqrt(p * (1 - p) / 200)
    width = nl["ci_high"] - nl["ci_low"]
    assert 0.85 * 2 * 1.96 * instance_se < width < 1.15 * 2 * 1.96 * instance_se
    row_se = math.sqrt(p * (1 - p) / 2000)
    assert width > 2.5 * 2 * 1.96 * row_se


def test_replicate_variance_is_the_unbiased_one():
    """Rao–Wu: a replicate's stratum sum has variance I·s² (s² with I − 1 in the denominator: the unbiased
    variance of the sum), not the plain bootstrap's I·σ², and its mean is the observed sum."""
    values = np.random.default_rng(3).normal(size=(1, 6))
    obs, reps = bootstrap.cell_sums(values, np.zeros(6, dtype=int), 1, n_boot=40000, seed=1)
    assert math.isclose(obs[0, 0], values.sum())
    assert math.isclose(reps[:, 0, 0].mean(), values.sum(), abs_tol=4 * math.sqrt(6 * values.var(ddof=1) / 40000))
    assert math.isclose(reps[:, 0, 0].var(), 6 * values.var(ddof=1), rel_tol=0.05)
    assert not math.isclose(reps[:, 0, 0].var(), 6 * values.var(), rel_tol=0.1)  # the plain bootstrap's, 5/6 of it


def test_resampling_keeps_each_stratum_size():
    """Every replicate's weights in a stratum add up to the instances it holds (n − 1 draws × n/(n − 1))."""
    strata = np.array([0] * 5 + [1] * 12 + [2] * 1)
    _, reps = bootstrap.cell_sums(np.ones((1, len(strata))), strata, 3, n_boot=50, seed=0)
    assert reps[:, :, 0] == pytest.approx(np.broadcast_to([5, 12, 1], (50, 3)))


def test_small_cells_merge_within_their_kind_then_all_together():
    """Cells under 5 instances join their kind's other small cells; a kind's group still under 5 joins the
    pool of leftovers; cells of 5 or more keep their own stratum."""
    sizes = np.array([8, 2, 3, 1, 6, 2, 0])  # kind 0: cells 0-2, kind 1: cells 3-4, kind 2: cells 5-6
    parent = np.array([0, 0, 0, 1, 1, 2, 2])
    strata = bootstrap.merge_small_strata(sizes, parent)
    assert strata[1] == strata[2] != strata[0]  # 2 + 3 = 5: a stratum of kind 0's small cells
    assert strata[3] == strata[5] and len({strata[0], strata[1], strata[3], strata[4]}) == 4  # 1 and 2 pooled


def test_merged_cells_are_resampled_together_but_summed_apart():
    """Two cells of 2 and 1 instances in one stratum: per-cell sums vary (a lone cell would not), every
    replicate's weights add up to the 3 instances, and the observed sums stay per cell."""
    values = np.array([[1.0, 0.0, 1.0]])
    cells = np.array([0, 0, 1])
    obs, reps = bootstrap.cell_sums(values, cells, 2, n_boot=2000, seed=4, strata=np.array([0, 0]))
    assert obs[:, 0].tolist() == [1.0, 1.0]
    assert reps[:, 1, 0].std() > 0.3
    weights = bootstrap.cell_sums(np.ones((1, 3)), cells, 2, n_boot=200, seed=4, strata=np.array([0, 0]))[1]
    assert weights.sum(axis=1)[:, 0] == pytest.approx(np.full(200, 3.0))
    alone = bootstrap.cell_sums(values, cells, 2, n_boot=200, seed=4)[1]
    assert alone[:, 1, 0].std() == 0  # cell 1 resampled alone: one instance, no variance


def test_seeded_and_chunked_draws_are_reproducible(monkeypatch):
    """The same seed gives the same replicates; another seed does not."""
    values = np.random.default_rng(0).random((2, 40))
    strata = np.arange(40) % 3
    a = bootstrap.cell_sums(values, strata, 3, n_boot=100, seed=7)[1]
    b = bootstrap.cell_sums(values, strata, 3, n_boot=100, seed=7)[1]
    c = bootstrap.cell_sums(values, strata, 3, n_boot=100, seed=8)[1]
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    monkeypatch.setattr(bootstrap, "CHUNK_CELLS", 7)  # many small chunks: same distribution, still seeded
    d = bootstrap.cell_sums(values, strata, 3, n_boot=100, seed=7)[1]
    e = bootstrap.cell_sums(values, strata, 3, n_boot=100, seed=7)[1]
    assert np.array_equal(d, e) and d.shape == a.shape


def test_percentile_interval_ignores_undefined_replicates():
    """A replicate where a cell drew none of its instances (0/0) is skipped, not counted as 0."""
    reps = np.array([[np.nan], [1.0], [2.0], [3.0]])
    lo, hi = bootstrap.percentile_interval(reps, level=0.5)
    assert lo[0] == 1.5 and hi[0] == 2.5


def test_pattern_draws_match_instance_draws():
    """Binary rows take the multinomial-per-distinct-row path; it has the instance path's distribution."""
    rng = np.random.default_rng(4)
    first = rng.random(400) < 0.3
    values = np.vstack([first, first | (rng.random(400) < 0.4)]).astype(float)  # correlated rows
    strata = np.zeros(400, dtype=int)
    _, by_pattern = bootstrap.cell_sums(values, strata, 1, n_boot=4000, seed=2)
    unique_row = np.arange(400.0)[None, :]  # makes every instance distinct: forces per-instance draws
    _, by_instance = bootstrap.cell_sums(np.vstack([values, unique_row]), strata, 1, n_boot=4000, seed=2)
    for r in range(2):
        theory = 400 * values[r].var(ddof=1)
        assert by_pattern[:, 0, r].var() == pytest.approx(theory, rel=0.1)
        assert by_instance[:, 0, r].var() == pytest.approx(theory, rel=0.1)
        assert by_pattern[:, 0, r].mean() == pytest.approx(values[r].sum(), abs=1.0)
    cov_pattern = np.cov(by_pattern[:, 0, 0], by_pattern[:, 0, 1])[0, 1]
    cov_instance = np.cov(by_instance[:, 0, 0], by_instance[:, 0, 1])[0, 1]
    theory = 400 * np.cov(values)[0, 1]
    assert cov_pattern == pytest.approx(theory, rel=0.1) and cov_instance == pytest.approx(theory, rel=0.1)


def _binomial_instances(rng, per_cell: int, cells: int = 6, replicates: int = 3, accuracy: float = 0.7):
    """Instances whose solve rates vary (Beta, mean `accuracy`), each answered `replicates` times."""
    size = cells * per_cell
    rate = rng.beta(4 * accuracy, 4 * (1 - accuracy), size)
    n = np.full(size, replicates)
    return pd.DataFrame(
        {
            "model": "m/one",
            "problem_id": [f"p{i:04d}" for i in range(size)],
            "kind": [f"k{i // per_cell}" for i in range(size)],
            "digit": 0,
            "arm": "nl",
            "n": n,
            "n_correct": rng.binomial(n, rate),
        }
    )


def _coverage(per_cell: int, simulations: int = 1000) -> float:
    """Share of 95% intervals (accuracy over every kind) that cover the true accuracy 0.7."""
    rng = np.random.default_rng(per_cell)
    hits = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bootstrap.SmallCellWarning)
        for s in range(simulations):
            row = accuracy(_binomial_instances(rng, per_cell), n_boot=400, seed=s).accuracy_by_arm.iloc[0]
            hits += row.ci_low <= 0.7 <= row.ci_high
    return hits / simulations


def test_coverage_is_near_95_percent_with_five_instances_per_cell():
    """Simulated binomial data of known accuracy, 5 instances per cell: the interval covers it 92–97.5% of
    1,000 times (measured 0.931; the plain n-of-n bootstrap covered 0.92, and 0.86 with 3 per cell)."""
    assert 0.92 <= _coverage(5) <= 0.975


def test_small_cells_warn_and_are_merged():
    """Three instances per cell: the analysis warns, says so in its output, resamples the small cells
    together (so no interval is a point), and no warning comes at 5 per cell."""
    data = _binomial_instances(np.random.default_rng(0), per_cell=3)
    with pytest.warns(bootstrap.SmallCellWarning, match="6 of 6 kind × digit cells hold fewer than 5"):
        result = accuracy(data, n_boot=200)
        single = accuracy(_binomial_instances(np.random.default_rng(0), per_cell=1), n_boot=200).accuracy_by_arm
    assert "12 of 16 intervals rest on fewer than 5 instances (fewest: 3" in result.summary()  # kinds, both rows
    assert len(result.to_dict()["notes"]) == 2
    assert (
        single.ci_high.iloc[0] - single.ci_low.iloc[0] > 0.1
    )  # six one-instance cells resampled alone would give a point
    with warnings.catch_warnings():
        warnings.simplefilter("error", bootstrap.SmallCellWarning)
        accuracy(_binomial_instances(np.random.default_rng(0), per_cell=5), n_boot=200)  # no warning at 5
