"""The instance-clustered bootstrap: clusters are instances, resampled within strata, seeded."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from evalhouse.analysis import bootstrap
from evalhouse.analysis.code_vs_nl import code_vs_nl


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
    r = code_vs_nl(_clustered(200, 10), n_boot=2000)
    nl = r.accuracy_by_arm.query("model == 'm/one' and arm == 'nl'").iloc[0]
    p = nl["accuracy"]
    instance_se = math.sqrt(p * (1 - p) / 200)
    width = nl["ci_high"] - nl["ci_low"]
    assert 0.85 * 2 * 1.96 * instance_se < width < 1.15 * 2 * 1.96 * instance_se
    row_se = math.sqrt(p * (1 - p) / 2000)
    assert width > 2.5 * 2 * 1.96 * row_se


def test_replicate_variance_matches_theory():
    """A replicate's stratum sum has variance I·σ² (σ² the population variance), its mean the observed sum."""
    rng = np.random.default_rng(3)
    values = rng.normal(size=(1, 300))
    obs, reps = bootstrap.stratum_sums(values, np.zeros(300, dtype=int), 1, n_boot=4000, seed=1)
    assert math.isclose(obs[0, 0], values.sum())
    assert math.isclose(reps[:, 0, 0].mean(), values.sum(), abs_tol=4 * math.sqrt(300 * values.var() / 4000))
    assert math.isclose(reps[:, 0, 0].var(), 300 * values.var(), rel_tol=0.1)


def test_resampling_keeps_each_stratum_size():
    """Every replicate draws exactly as many instances from a stratum as it holds."""
    strata = np.array([0] * 5 + [1] * 12 + [2] * 1)
    _, reps = bootstrap.stratum_sums(np.ones((1, len(strata))), strata, 3, n_boot=50, seed=0)
    assert (reps[:, :, 0] == np.array([5, 12, 1])).all()


def test_seeded_and_chunked_draws_are_reproducible(monkeypatch):
    """The same seed gives the same replicates; another seed does not."""
    values = np.random.default_rng(0).random((2, 40))
    strata = np.arange(40) % 3
    a = bootstrap.stratum_sums(values, strata, 3, n_boot=100, seed=7)[1]
    b = bootstrap.stratum_sums(values, strata, 3, n_boot=100, seed=7)[1]
    c = bootstrap.stratum_sums(values, strata, 3, n_boot=100, seed=8)[1]
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    monkeypatch.setattr(bootstrap, "CHUNK_CELLS", 7)  # many small chunks: same distribution, still seeded
    d = bootstrap.stratum_sums(values, strata, 3, n_boot=100, seed=7)[1]
    e = bootstrap.stratum_sums(values, strata, 3, n_boot=100, seed=7)[1]
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
    _, by_pattern = bootstrap.stratum_sums(values, strata, 1, n_boot=4000, seed=2)
    unique_row = np.arange(400.0)[None, :]  # makes every instance distinct: forces per-instance draws
    _, by_instance = bootstrap.stratum_sums(np.vstack([values, unique_row]), strata, 1, n_boot=4000, seed=2)
    for r in range(2):
        theory = 400 * values[r].var()
        assert by_pattern[:, 0, r].var() == pytest.approx(theory, rel=0.1)
        assert by_instance[:, 0, r].var() == pytest.approx(theory, rel=0.1)
        assert by_pattern[:, 0, r].mean() == pytest.approx(values[r].sum(), abs=1.0)
    cov_pattern = np.cov(by_pattern[:, 0, 0], by_pattern[:, 0, 1])[0, 1]
    cov_instance = np.cov(by_instance[:, 0, 0], by_instance[:, 0, 1])[0, 1]
    theory = 400 * np.cov(values, bias=True)[0, 1]
    assert cov_pattern == pytest.approx(theory, rel=0.1) and cov_instance == pytest.approx(theory, rel=0.1)
