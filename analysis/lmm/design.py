"""From a data frame and a parsed formula to the numbers a fit needs: y (or binomial counts), X, Z.

X comes from patsy, named and ordered as R's `model.matrix` names and orders it: `(Intercept)`, numeric
columns as written, factor levels pasted onto the column name (`armcode`, treatment contrasts against the
first level in sorted order, as R sorts factor levels in the C locale), main effects before interactions.
Each random term becomes a grouping factor (integer codes, levels sorted) and its per-row model matrix.
Rows with a missing value in any column the formula uses are dropped, as lme4's default `na.omit`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .formula import Formula, RandomTerm


@dataclass(frozen=True)
class Term:
    """One random term: a grouping factor and the columns whose coefficients vary by its levels."""

    group: str  # "Subject", or "cask:batch"-style for an interaction
    names: list[str]  # "(Intercept)", "Days"
    codes: np.ndarray  # level index per row
    levels: list[str]
    values: np.ndarray  # n × k model matrix of the term's left-hand side

    @property
    def k(self) -> int:
        return self.values.shape[1]

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    @property
    def n_theta(self) -> int:
        return self.k * (self.k + 1) // 2

    @property
    def q(self) -> int:
        return self.k * self.n_levels


@dataclass(frozen=True)
class Design:
    formula: Formula
    X: np.ndarray
    names: list[str]
    terms: list[Term]
    y: np.ndarray | None = None  # gaussian response
    successes: np.ndarray | None = None  # binomial: successes and trials per row
    trials: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def p(self) -> int:
        return self.X.shape[1]


def build(data: pd.DataFrame, formula: Formula, family: str) -> Design:
    """The design of `formula` on `data`; a ValueError names what is missing or cannot be fitted."""
    frame = _frame(data, formula)
    X, names = _fixed(frame, formula)
    terms = _lme4_order([_term(frame, t) for t in formula.random])
    if family == "binomial":
        successes, trials = _binomial_response(frame, formula)
        return Design(formula, X, names, terms, successes=successes, trials=trials)
    if formula.response.is_counts:
        raise ValueError(f"cbind(...) counts in {formula.text!r} need --family binomial")
    return Design(formula, X, names, terms, y=_numeric(frame[formula.response.column], formula.response.column))


def _frame(data: pd.DataFrame, formula: Formula) -> pd.DataFrame:
    columns = list(dict.fromkeys(formula.response.columns))
    for name in formula.fixed_columns:
        if name in data.columns and name not in columns:
            columns.append(name)
    for term in formula.random:
        for name in term.columns + list(term.group):
            if name not in data.columns:
                raise ValueError(
                    f"column {name!r} of {term.written} is not in the data "
                    f"(columns: {', '.join(map(str, data.columns))})"
                )
            if name not in columns:
                columns.append(name)
    for name in formula.response.columns:
        if name not in data.columns:
            raise ValueError(
                f"response column {name!r} is not in the data (columns: {', '.join(map(str, data.columns))})"
            )
    frame = data.loc[:, columns].dropna()
    if frame.empty:
        raise ValueError(f"no complete rows for {formula.text!r}")
    kinds = {}
    for c in columns:
        if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c]):
            kinds[c] = "category"  # levels sorted once, as R's factor(); no per-row Python loop in patsy
    return frame.astype(kinds).reset_index(drop=True)


def _lme4_order(terms: list[Term]) -> list[Term]:
    """lme4's mkReTrms order: if any term has more levels than the one before it, most levels first
    (`rev(order(nl))`, so ties end up in reverse written order); otherwise as written."""
    nl = [t.n_levels for t in terms]
    if not any(b > a for a, b in itertools.pairwise(nl)):
        return terms
    ascending = sorted(range(len(terms)), key=lambda i: nl[i])
    return [terms[i] for i in reversed(ascending)]


def _numeric(column: pd.Series, name: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(column):
        return column.to_numpy(float)  # a 0/1 outcome (is_correct) is a number, not a two-level factor
    if not pd.api.types.is_numeric_dtype(column):
        raise ValueError(f"response column {name!r} is not numeric")
    return column.to_numpy(float)


def _binomial_response(frame: pd.DataFrame, formula: Formula) -> tuple[np.ndarray, np.ndarray]:
    r = formula.response
    if not r.is_counts:
        y = _numeric(frame[r.column], r.column)
        if not np.isin(y, (0.0, 1.0)).all():
            raise ValueError(
                f"binomial response {r.column!r} must be 0/1 (or give counts as cbind(successes, failures))"
            )
        return y, np.ones_like(y)
    k = _numeric(frame[r.successes], r.successes)
    n = k + _numeric(frame[r.failures], r.failures) if r.failures else _numeric(frame[r.trials], r.trials)
    if (k < 0).any() or (n < k).any() or (n != np.round(n)).any():
        raise ValueError(f"{r.text()}: successes must lie in [0, trials] and trials be whole numbers")
    return k, n


_LEVEL = re.compile(r"([A-Za-z_.][A-Za-z0-9_.]*)\[(?:T\.)?([^\]]*)\]")


def r_name(patsy_name: str) -> str:
    """patsy's column name as R's model.matrix writes it: `arm[T.code]:x` → `armcode:x`."""
    if patsy_name == "Intercept":
        return "(Intercept)"
    out = _LEVEL.sub(lambda m: m.group(1) + {"True": "TRUE", "False": "FALSE"}.get(m.group(2), m.group(2)), patsy_name)
    return out


def _model_matrix(frame: pd.DataFrame, rhs: str, where: str) -> tuple[np.ndarray, list[str]]:
    import patsy

    try:
        desc = patsy.ModelDesc.from_formula(rhs)
        matrix = patsy.dmatrix(desc, frame, NA_action="raise", return_type="dataframe")
    except Exception as exc:  # patsy's message names the bad term; it is the user's formula
        raise ValueError(f"cannot build {where}: {str(exc).splitlines()[0]}") from None
    info = matrix.design_info
    written = {term: i for i, term in enumerate(desc.rhs_termlist)}
    order = sorted(info.terms, key=lambda t: (len(t.factors), written.get(t, len(written))))
    columns = [c for t in order for c in range(info.term_slices[t].start, info.term_slices[t].stop)]
    values = matrix.to_numpy(float)[:, columns]
    return values, [r_name(info.column_names[c]) for c in columns]


def _fixed(frame: pd.DataFrame, formula: Formula) -> tuple[np.ndarray, list[str]]:
    return _model_matrix(frame, formula.fixed, f"the fixed part {formula.fixed!r} of {formula.text!r}")


def _term(frame: pd.DataFrame, term: RandomTerm) -> Term:
    values, names = _model_matrix(frame, term.expr, f"{term.written}")
    if values.shape[1] == 0:
        raise ValueError(f"{term.written} has no column left of `|`")
    if len(term.group) == 1:
        codes, levels = _factorize(frame[term.group[0]])
    else:  # an interaction g:h: one level per observed combination, named as R pastes them
        grouped = frame.groupby(list(term.group), sort=True, observed=True)
        codes = grouped.ngroup().to_numpy(np.int64)
        levels = [":".join(map(str, key)) for key in grouped.groups]
    return Term(term.group_name, names, codes, levels, values)


def _factorize(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    codes, uniques = pd.factorize(column, sort=True)
    return codes.astype(np.int64), [str(u) for u in uniques]
