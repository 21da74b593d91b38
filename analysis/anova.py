"""Repeated-measures ANOVA with the problem instance as the subject (error strata as R's `aov` + `Error()`).

Every model answers the same instances under every arm, so model and arm are within-instance factors
and each effect is tested against its own instance × effect stratum, not against a pooled residual with
one degree of freedom per response. The input is one value per instance and cell (the instance's mean
correctness over its replicates), so replicates never count as subjects.

- `within_two_way(y)`: y[instance, a, b], both factors within instance; equals
  `summary(aov(y ~ a*b + Error(problem_id/(a*b))))`.
- `split_plot(y, group)`: y[instance, a] with `group` a between-instance factor (each instance has one
  kind); equals `summary(aov(y ~ a*group + Error(problem_id/a)))`.

Both need complete subjects (every cell observed); the callers keep the complete instances and say how
many they dropped. Sums of squares come from cell means in closed form (the design is balanced within
instance), so a table over 10,000 instances × 30 models costs a few array passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

SUBJECT = "problem_id"
COLUMNS = ["stratum", "term", "df", "sum_sq", "mean_sq", "F", "p"]


@dataclass(frozen=True)
class Anova:
    """An ANOVA table by error stratum; `table` has one row per term and one `Residuals` row per stratum."""

    formula: str  # the R call it equals
    n_subjects: int  # instances used (complete)
    n_dropped: int  # instances left out because a cell was missing
    table: pd.DataFrame  # stratum, term, df, sum_sq, mean_sq, F, p

    def p(self, term: str) -> float | None:
        rows = self.table[self.table["term"] == term]
        return None if rows.empty else float(rows["p"].iloc[0])

    def to_dict(self) -> dict:
        return {
            "formula": self.formula,
            "unit": f"problem instance ({SUBJECT}): the subject stratum",
            "n_instances": self.n_subjects,
            "n_instances_dropped": self.n_dropped,
            "table": self.table.to_dict(orient="records"),
        }


def _stratum(name: str, terms: list[tuple[str, float, float]], error: tuple[float, float] | None) -> list[dict]:
    """Rows of one stratum: each term's F against the stratum's residual mean square. A residual of 0
    gives F = Inf and p = 0 (NaN for a term of SS 0 too), as R's summary.aov does."""
    rows = []
    err_ss, err_df = error if error else (np.nan, 0.0)
    err_ms = np.float64(err_ss / err_df) if err_df > 0 else np.nan
    for term, ss, df in terms:
        if df <= 0:
            continue
        ms = ss / df
        with np.errstate(divide="ignore", invalid="ignore"):
            f = float(np.float64(ms) / err_ms)
        p = float(stats.f.sf(f, df, err_df)) if err_df > 0 and not np.isnan(f) else np.nan
        rows.append({"stratum": name, "term": term, "df": df, "sum_sq": ss, "mean_sq": ms, "F": f, "p": p})
    if err_df > 0:
        rows.append(
            {"stratum": name, "term": "Residuals", "df": err_df, "sum_sq": err_ss, "mean_sq": float(err_ms)}
            | {"F": np.nan, "p": np.nan}
        )
    return rows


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def within_two_way(y: np.ndarray, names: tuple[str, str] = ("a", "b"), n_dropped: int = 0) -> Anova:
    """Two within-subject factors: y has shape (subjects, levels of a, levels of b), no missing cell."""
    y = np.asarray(y, dtype=float)
    n_sub, n_a, n_b = y.shape
    a, b = names
    g = y.mean()
    m_s, m_a, m_b = y.mean(axis=(1, 2)), y.mean(axis=(0, 2)), y.mean(axis=(0, 1))
    m_sa, m_sb, m_ab = y.mean(axis=2), y.mean(axis=1), y.mean(axis=0)
    ss_s = n_a * n_b * float(np.sum((m_s - g) ** 2))
    ss_a = n_sub * n_b * float(np.sum((m_a - g) ** 2))
    ss_b = n_sub * n_a * float(np.sum((m_b - g) ** 2))
    ss_ab = n_sub * float(np.sum((m_ab - m_a[:, None] - m_b[None, :] + g) ** 2))
    ss_sa = n_b * float(np.sum((m_sa - m_s[:, None] - m_a[None, :] + g) ** 2))
    ss_sb = n_a * float(np.sum((m_sb - m_s[:, None] - m_b[None, :] + g) ** 2))
    resid = (
        y
        - m_sa[:, :, None]
        - m_sb[:, None, :]
        - m_ab[None, :, :]
        + m_s[:, None, None]
        + m_a[None, :, None]
        + m_b[None, None, :]
        - g
    )
    ss_sab = float(np.sum(resid**2))
    da, db, ds = n_a - 1.0, n_b - 1.0, n_sub - 1.0
    rows = (
        _stratum(SUBJECT, [], (ss_s, ds))
        + _stratum(f"{SUBJECT}:{a}", [(a, ss_a, da)], (ss_sa, ds * da))
        + _stratum(f"{SUBJECT}:{b}", [(b, ss_b, db)], (ss_sb, ds * db))
        + _stratum(f"{SUBJECT}:{a}:{b}", [(f"{a}:{b}", ss_ab, da * db)], (ss_sab, ds * da * db))
    )
    formula = f"aov(y ~ {a}*{b} + Error({SUBJECT}/({a}*{b})))"
    return Anova(formula, n_sub, n_dropped, _frame(rows))


def split_plot(y: np.ndarray, group, names: tuple[str, str] = ("a", "group"), n_dropped: int = 0) -> Anova:
    """One within-subject factor (columns of y: subjects × levels) and one between-subject factor
    (`group`: each subject's level; groups may differ in size)."""
    y = np.asarray(y, dtype=float)
    n_sub, n_a = y.shape
    a, grp = names
    codes, _ = pd.factorize(np.asarray(group), sort=True)
    n_g = int(codes.max(initial=-1)) + 1
    size = np.bincount(codes, minlength=n_g).astype(float)
    g = y.mean()
    m_s = y.mean(axis=1)
    m_a = y.mean(axis=0)
    m_g = np.bincount(codes, weights=m_s, minlength=n_g) / size
    m_ga = np.vstack([np.bincount(codes, weights=y[:, j], minlength=n_g) for j in range(n_a)]).T / size[:, None]
    ss_g = n_a * float(np.sum(size * (m_g - g) ** 2))
    ss_s = n_a * float(np.sum((m_s - m_g[codes]) ** 2))
    ss_a = n_sub * float(np.sum((m_a - g) ** 2))
    ss_ga = float(np.sum(size[:, None] * (m_ga - m_g[:, None] - m_a[None, :] + g) ** 2))
    resid = y - m_s[:, None] - m_ga[codes] + m_g[codes][:, None]
    ss_w = float(np.sum(resid**2))
    dg, da = n_g - 1.0, n_a - 1.0
    rows = _stratum(SUBJECT, [(grp, ss_g, dg)], (ss_s, n_sub - n_g)) + _stratum(
        f"{SUBJECT}:{a}", [(a, ss_a, da), (f"{a}:{grp}", ss_ga, da * dg)], (ss_w, (n_sub - n_g) * da)
    )
    formula = f"aov(y ~ {a}*{grp} + Error({SUBJECT}/{a}))"
    return Anova(formula, n_sub, n_dropped, _frame(rows))
