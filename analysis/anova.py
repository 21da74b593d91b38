"""Two-way ANOVA with interaction (type II sums of squares) from cell sums.

With two categorical factors every model's fitted values are constant within a cell, so each residual
sum of squares is the within-cell sum of squares plus a weighted fit to the cell means. The fits run
on the cells (a few dozen rows) instead of on hundreds of thousands of observations, which is what makes
the ANOVA fast on a million responses; the table has the layout and values of statsmodels'
`anova_lm(ols("y ~ C(a) * C(b)"), typ=2)` (tested against it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats


def _weighted_rss(means: np.ndarray, weights: np.ndarray, design: np.ndarray) -> tuple[float, int]:
    """RSS of a weighted least-squares fit of the cell means, and the fit's rank."""
    w = np.sqrt(weights)
    coef, _, rank, _ = np.linalg.lstsq(design * w[:, None], means * w, rcond=None)
    resid = means - design @ coef
    return float(np.sum(weights * resid**2)), int(rank)


def _dummies(codes: np.ndarray, levels: int) -> np.ndarray:
    return np.eye(levels)[codes][:, 1:]


def anova_two_way(y: np.ndarray, a: np.ndarray, b: np.ndarray, names: tuple[str, str] = ("a", "b")) -> pd.DataFrame:
    """Type II ANOVA table of `y ~ a * b` (rows: a, b, a:b, Residual; columns sum_sq, df, F, PR(>F))."""
    y = np.asarray(y, dtype=float)
    a_codes, a_levels = pd.factorize(np.asarray(a), sort=True)
    b_codes, b_levels = pd.factorize(np.asarray(b), sort=True)
    na, nb = len(a_levels), len(b_levels)
    cell = a_codes * nb + b_codes
    n = np.bincount(cell, minlength=na * nb).astype(float)
    total = np.bincount(cell, weights=y, minlength=na * nb)
    squares = np.bincount(cell, weights=y * y, minlength=na * nb)
    present = n > 0
    n, total, squares = n[present], total[present], squares[present]
    means = total / n
    within = float(np.sum(squares - total * means))
    ca, cb = np.divmod(np.flatnonzero(present), nb)
    one = np.ones((len(n), 1))
    rss_a, rank_a = _weighted_rss(means, n, np.hstack([one, _dummies(ca, na)]))
    rss_b, rank_b = _weighted_rss(means, n, np.hstack([one, _dummies(cb, nb)]))
    rss_ab, rank_ab = _weighted_rss(means, n, np.hstack([one, _dummies(ca, na), _dummies(cb, nb)]))
    df_resid = len(y) - len(n)
    rows = {
        names[0]: (rss_b - rss_ab, rank_ab - rank_b),
        names[1]: (rss_a - rss_ab, rank_ab - rank_a),
        f"{names[0]}:{names[1]}": (rss_ab, len(n) - rank_ab),
    }
    mse = within / df_resid if df_resid > 0 else np.nan
    table = pd.DataFrame(
        [(ss, df, (ss / df) / mse if df > 0 and mse > 0 else np.nan) for ss, df in rows.values()],
        index=list(rows),
        columns=["sum_sq", "df", "F"],
    )
    table["PR(>F)"] = stats.f.sf(table["F"], table["df"], df_resid)
    table.loc["Residual"] = [within, df_resid, np.nan, np.nan]
    table["sum_sq"] = table["sum_sq"].clip(lower=0.0)
    return table
