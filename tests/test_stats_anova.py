"""Two-way ANOVA from cell sums against statsmodels on the raw observations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm

from evalhouse.analysis.anova import anova_two_way


def _data(drop_cell: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 600
    d = pd.DataFrame({"a": rng.choice(list("xyz"), n, p=[0.5, 0.3, 0.2]), "b": rng.choice(list("PQRS"), n)})
    d["y"] = rng.normal(size=n) + 0.3 * (d.a == "x") + 0.5 * (d.b == "Q") + 0.8 * ((d.a == "y") & (d.b == "R"))
    return d[~((d.a == "z") & (d.b == "S"))] if drop_cell else d


def test_matches_statsmodels_type_ii_on_unbalanced_data():
    """Sums of squares, df, F and p equal anova_lm(ols('y ~ C(a) * C(b)'), typ=2)."""
    d = _data()
    ref = anova_lm(smf.ols("y ~ C(a) * C(b)", d).fit(), typ=2)
    ours = anova_two_way(d.y, d.a, d.b)
    for col in ("sum_sq", "df", "F", "PR(>F)"):
        assert ours[col].to_numpy() == pytest.approx(ref[col].to_numpy(), rel=1e-9, nan_ok=True)


@pytest.mark.filterwarnings("ignore:The design matrix is rank-deficient")
def test_empty_cell_uses_model_comparison():
    """With an empty cell each SS is still the drop in RSS between nested OLS fits (statsmodels' Wald
    version of type II miscounts there), and the interaction has one df less."""
    d = _data(drop_cell=True)
    ssr = {f: smf.ols(f, d).fit().ssr for f in ("y ~ C(a)", "y ~ C(b)", "y ~ C(a) + C(b)", "y ~ C(a) * C(b)")}
    ours = anova_two_way(d.y, d.a, d.b)
    assert ours.loc["a", "sum_sq"] == pytest.approx(ssr["y ~ C(b)"] - ssr["y ~ C(a) + C(b)"], rel=1e-9)
    assert ours.loc["b", "sum_sq"] == pytest.approx(ssr["y ~ C(a)"] - ssr["y ~ C(a) + C(b)"], rel=1e-9)
    assert ours.loc["a:b", "sum_sq"] == pytest.approx(ssr["y ~ C(a) + C(b)"] - ssr["y ~ C(a) * C(b)"], rel=1e-9)
    assert ours.loc["a:b", "df"] == 5 and ours.loc["Residual", "df"] == len(d) - 11
