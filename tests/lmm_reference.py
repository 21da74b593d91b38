"""The stored lme4/lmerTest/pbkrtest/glmer figures (tests/reference/lme4/mixed_reference.R) and the same
models fitted here: shared by the reference tests and the comparison report."""

from __future__ import annotations

import math
from functools import cache

import pandas as pd

from evalhouse.analysis.lmm import fit

from .conftest import REPO

REF = REPO / "tests" / "reference" / "lme4"


def _read(name: str, as_text: tuple[str, ...] = ()) -> pd.DataFrame:
    d = pd.read_csv(REF / name)
    return d.astype({c: str for c in as_text})


MODELS = {  # name: (family, formula, data loader), as in mixed_reference.R
    "sleepstudy_slope": ("gaussian", "Reaction ~ Days + (Days | Subject)", lambda: _read("sleepstudy.csv")),
    "sleepstudy_uncorrelated": (
        "gaussian",
        "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)",
        lambda: _read("sleepstudy.csv"),
    ),
    "penicillin_crossed": ("gaussian", "diameter ~ 1 + (1 | plate) + (1 | sample)", lambda: _read("penicillin.csv")),
    "pastes_nested": ("gaussian", "strength ~ 1 + (1 | batch / cask)", lambda: _read("pastes.csv")),
    "dyestuff": ("gaussian", "Yield ~ 1 + (1 | Batch)", lambda: _read("dyestuff.csv")),
    "cake_interaction_group": (
        "gaussian",
        "angle ~ recipe + temp + (1 | replicate) + (1 | recipe:replicate)",
        lambda: _read("cake.csv", ("replicate",)),
    ),
    "hubris_full": (
        "gaussian",
        "hubris ~ is_flagship + (1 | lab)",
        lambda: pd.read_csv(REPO / "examples" / "hubris_models.csv"),
    ),
    "evalsim_crossed": ("both", None, lambda: _read("evalsim.csv")),
    "cbpp": (
        "binomial",
        "cbind(incidence, size - incidence) ~ period + (1 | herd)",
        lambda: _read("cbpp.csv", ("period", "herd")),
    ),
    "grouseticks_any": (
        "binomial",
        "any_ticks ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION)",
        lambda: _read("grouseticks.csv", ("YEAR",)),
    ),
    "evalsim_slopes": ("binomial", "correct ~ arm + (arm | model) + (1 | instance)", lambda: _read("evalsim.csv")),
    "evalsim_counts": (
        "binomial",
        "cbind(correct, n - correct) ~ arm + (1 | model)",
        lambda: _read("evalsim_counts.csv"),
    ),
}
EVALSIM = {
    "gaussian": "score ~ arm + (1 | model) + (1 | instance)",
    "binomial": "correct ~ arm + (1 | model) + (1 | instance)",
}


@cache
def reference() -> pd.DataFrame:
    return pd.read_csv(REF / "mixed_reference.csv", keep_default_na=False, dtype={"value": float})


def cases() -> list[tuple[str, str, str]]:
    """(model, method, df_method) of every reference t/z table."""
    ref = reference()
    fixed = ref[(ref.quantity == "estimate") & (ref.method != "glmer_default")]
    return sorted({(r.model, r.method, r.df_method) for r in fixed.itertuples()})


@cache
def fitted(model: str, method: str, df_method: str):
    family, formula, load = MODELS[model]
    if family == "both":
        family = "binomial" if method == "Laplace" else "gaussian"
        formula = EVALSIM[family]
    kwargs = {} if family == "binomial" else {"reml": method == "REML", "df": df_method or "satterthwaite"}
    return fit(formula, load(), family=family, **kwargs)


def relative_error(ours: float, theirs: float, scale: float = 0.0) -> float:
    """|ours − theirs| / |theirs|; a value R puts at zero compares absolutely against `scale`."""
    if theirs == 0 or abs(theirs) < 1e-9 * scale:
        return abs(ours - theirs) / max(scale, 1.0)
    return abs(ours - theirs) / abs(theirs)


def p_error(ours: float, theirs: float, log_scale: bool = False) -> float:
    """p-values compare relatively, and below 1e-10 on the log scale (|Δlog p| / |log p|); where R's
    underflows to 0, ours must be below 1e-300 (and is printed `< 1e-300`)."""
    if theirs == 0:
        return 0.0 if ours < 1e-300 else math.inf
    if theirs < 1e-10 or log_scale:
        return abs(math.log(max(ours, 1e-320)) - math.log(theirs)) / abs(math.log(theirs))
    return abs(ours - theirs) / theirs


TOL = 2e-4


def ours(r, row) -> float:
    """Our figure for one row of the reference table."""
    q = row.quantity
    if q in ("estimate", "se", "df", "statistic", "p"):
        return float(r.fixed.loc[row.term, q])
    if q in ("variance", "covariance", "correlation"):
        for c in r.random:
            if c["group"] == row.group and c.get("term", "") == row.term and c.get("term2", "") == row.term2 and q in c:
                return float(c[q]) if c[q] is not None else 0.0
        raise KeyError((row.group, row.term, row.term2, q))
    if q == "ranef":
        return float(r.ranef[row.group].loc[row.term2, row.term])
    if q == "theta":
        return float(r.theta[int(row.term) - 1])
    if q == "singular":
        return float(r.singular)
    return float(getattr(r, q))


def scale_of(r, row) -> float:
    """The scale against which a value R puts at zero is judged (a singular fit's variance)."""
    if row.quantity in ("variance", "covariance", "ranef", "sigma"):
        return (r.sigma**2 if row.quantity != "ranef" else r.sigma) if r.sigma else 1.0
    return 1.0


def compare(model: str, method: str, df_method: str) -> list[tuple[str, str, float, float, float]]:
    """(quantity, label, ours, R's, error) for every reference row of one fit: the fixed-effect table of
    `df_method` and, with df_method == "", the rest (variances, likelihood, θ, conditional modes)."""
    ref = reference()
    rows = ref[
        (ref.model == model)
        & (ref.method == method)
        & (ref.df_method == df_method)
        & (ref.quantity != "se_glmer_summary")  # kept for the record (see mixed_reference.R)
    ]
    r = fitted(model, method, df_method or ("z" if method == "Laplace" else "satterthwaite"))
    out = []
    for row in rows.itertuples():
        value = ours(r, row)
        if row.quantity == "p":
            err = p_error(value, row.value, log_scale=method == "Laplace")
        else:
            err = relative_error(value, row.value, scale_of(r, row))
        out.append((row.quantity, f"{row.group}|{row.term}|{row.term2}", value, row.value, err))
    return out
