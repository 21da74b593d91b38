"""Every paired test, ANOVA and effect size against figures R computed (tests/reference/stats, made by
stats_reference.R: wilcox.test, t.test, binom.test, Durkalski's clustered McNemar, aov with Error())."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evalhouse.analysis.code_vs_nl import code_vs_nl
from evalhouse.analysis.format import p_value
from evalhouse.analysis.paired import mcnemar_exact_p, mcnemar_instances, paired_t, wilcoxon_signed_rank

REFERENCE = Path(__file__).parent / "reference" / "stats"
R = pd.read_csv(REFERENCE / "stats_reference.csv", keep_default_na=False)
REL = 1e-9  # every figure here is closed form: R and evalhouse agree to rounding


def _r(dataset: str, test: str, scope: str = "") -> dict[str, float]:
    rows = R[(R.dataset == dataset) & (R.test == test) & (R.scope == scope)]
    assert not rows.empty, (dataset, test, scope)
    return dict(zip(rows.quantity, rows.value.astype(float)))


def _same(ours: float, theirs: float) -> None:
    """Equal to R to REL; where R's double underflowed to 0, ours is below the printed floor too."""
    if theirs == 0.0:
        assert ours < 1e-300 and p_value(ours) == "< 1e-300"
    else:
        assert ours == pytest.approx(theirs, rel=REL, abs=1e-13)


VECTORS = ["exact_small", "exact_49", "normal_50", "ties_zeros", "ties_small", "large_shift"]


@pytest.mark.parametrize("name", VECTORS)
def test_wilcoxon_equals_r_default(name):
    """V, two-sided and one-sided p and the exact/normal switch are wilcox.test(x, y, paired = TRUE)'s."""
    data = pd.read_csv(REFERENCE / f"wilcoxon_{name}.csv")
    w = wilcoxon_signed_rank(data.x - data.y)
    ref = _r(name, "wilcoxon")
    assert w.statistic == ref["V"] and w.exact == bool(ref["exact"])
    _same(w.p_value, ref["p"])
    _same(w.p_greater, ref["p_greater"])


@pytest.mark.parametrize("name", VECTORS)
def test_paired_t_equals_r(name):
    """t, df, p and the 95% interval are t.test(x, y, paired = TRUE)'s."""
    data = pd.read_csv(REFERENCE / f"wilcoxon_{name}.csv")
    t = paired_t(data.x - data.y)
    ref = _r(name, "paired_t")
    for ours, key in ((t.statistic, "t"), (t.df, "df"), (t.ci_low, "ci_low"), (t.ci_high, "ci_high"), (t.p_value, "p")):
        _same(ours, ref[key])


@pytest.mark.parametrize("b,c", [(10, 2), (3, 1), (455, 18), (40, 41), (2275, 90)])
def test_exact_mcnemar_equals_binom_test(b, c):
    """The exact McNemar p is binom.test(b, b + c)'s, and one that underflows prints as `< 1e-300`."""
    _same(mcnemar_exact_p(b, c), _r(f"binom_{b}_{c}", "mcnemar_exact")["p"])


def test_durkalski_equals_published_and_r_on_clustered_data():
    """Durkalski et al.'s X² on their two data sets: 7.542 (psychiatry) and 2.32 (thyroids), R's p."""
    psy = pd.read_csv(REFERENCE / "psychiatry.csv")
    n = psy[["ah", "bh", "ch", "dh"]].sum(axis=1)
    m = mcnemar_instances((psy.ah + psy.bh) / n, (psy.ah + psy.ch) / n)  # each arm's accuracy per cluster
    assert m.test == "durkalski" and round(m.statistic, 3) == 7.542
    _same(m.statistic, _r("psychiatry", "mcnemar_durkalski")["X2"])
    _same(m.p_value, _r("psychiatry", "mcnemar_durkalski")["p"])
    thy = pd.read_csv(REFERENCE / "thyroids.csv").groupby("patient")[["pet", "spect"]].mean()
    m = mcnemar_instances(thy.pet, thy.spect)
    assert round(m.statistic, 2) == 2.32
    _same(m.statistic, _r("thyroids", "mcnemar_durkalski")["X2"])
    _same(m.p_value, _r("thyroids", "mcnemar_durkalski")["p"])


@pytest.fixture(scope="module", params=["cvn_replicates", "cvn_single"])
def cvn(request):
    return request.param, code_vs_nl(pd.read_csv(REFERENCE / f"{request.param}.csv"), n_boot=200)


def test_code_vs_nl_per_model_tests_equal_r(cvn):
    """Per model: Wilcoxon, paired t, McNemar (exact on one replicate, Durkalski on several), Δ, d_z, h."""
    name, result = cvn
    for row in result.paired.itertuples():
        w, t = _r(name, "wilcoxon", row.model), _r(name, "paired_t", row.model)
        assert row.wilcoxon_v == w["V"]
        _same(row.wilcoxon_p, w["p"])
        _same(row.wilcoxon_p_greater, w["p_greater"])
        for ours, key in (
            (row.t_statistic, "t"),
            (row.t_df, "df"),
            (row.t_p, "p"),
            (row.t_ci_low, "ci_low"),
            (row.t_ci_high, "ci_high"),
        ):
            _same(ours, t[key])
        test = "mcnemar_exact" if name == "cvn_single" else "mcnemar_durkalski"
        mc = _r(name, test, row.model)
        assert row.mcnemar_test == test.removeprefix("mcnemar_")
        _same(row.mcnemar_statistic, mc["b"] if name == "cvn_single" else mc["X2"])
        _same(row.mcnemar_p, mc["p"])
        effect = _r(name, "effect", row.model)
        for ours, key in ((row.delta, "delta"), (row.cohens_dz, "cohens_dz"), (row.cohens_h, "cohens_h")):
            _same(ours, effect[key])
    pooled = _r(name, "effect")
    _same(result.pooled_cohens_d, pooled["pooled_dz"])
    _same(result.pooled_cohens_h, pooled["pooled_h"])


def test_code_vs_nl_anovas_equal_r_error_strata(cvn):
    """Both ANOVAs have R's strata, terms, df, SS, F and p (aov with Error(problem_id/…))."""
    name, result = cvn
    assert result.anova.n_subjects == _r(name, "anova")["n_complete"]
    for test, table in (("anova_model_arm", result.anova), ("anova_model_kind_delta", result.interaction)):
        ref = R[(R.dataset == name) & (R.test == test)]
        keys = set(ref.scope)
        ours = {f"{r.stratum}|{r.term}": r for r in table.table.itertuples()}
        assert set(ours) == keys
        for key in keys:
            figures = _r(name, test, key)
            for quantity, value in figures.items():
                _same(getattr(ours[key], quantity), value)


def test_reference_figures_are_all_there():
    """All 219 stored R figures are present and numbers (the tests above compare every one of them)."""
    assert len(R) == 219 and not np.isnan(R.value.astype(float)).any()
