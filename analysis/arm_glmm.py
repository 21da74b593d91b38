"""The arm effect as a reviewer asks for it: a binomial GLMM with crossed random intercepts.

`glmer(accuracy ~ arm + (1|model) + (1|problem_id), family = binomial)` on the treatment and control arms of
the instance mart, with the control as the reference level: the `arm<treatment>` coefficient is the
log-odds of a correct response under the treatment against the control, for a typical model on a typical
instance; exp() of it and of its Wald interval is the odds ratio. Fitted on every kind pooled and on each
kind alone (a kind answered by a single model drops `(1|model)`, which one level cannot estimate, and says so).

The unit is the instance, as in every test evalhouse reports: each model × instance × arm is one binomial
trial whose outcome is its mean correctness over its replicates (a proportion with weight 1). With one
replicate per instance this is glmer on the responses themselves; with several, the replicates are not
counted as independent evidence, so copying the data under more seeds leaves the fit unchanged (a test
checks it).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from .lmm import fit

GLMM_COLUMNS = [
    "kind",  # "all", or one kind
    "formula",
    "n_obs",  # model × instance × arm rows (binomial counts)
    "n_responses",
    "n_models",
    "n_instances",
    "log_odds",
    "se",
    "z",
    "p",
    "ci_low",
    "ci_high",
    "odds_ratio",
    "or_ci_low",
    "or_ci_high",
    "model_variance",
    "instance_variance",
    "singular",
    "converged",
    "note",
]
SEPARATION = 15.0  # |log-odds| beyond which an odds ratio of 3e6 means the data separate the arms
R_EQUIVALENT = (
    "glmer(accuracy ~ arm + (1|model) + (1|problem_id), family = binomial), accuracy = the mean correctness of"
    " each model × instance × arm"
)


def arm_glmm(instances: pd.DataFrame, treatment: str, control: str, by_kind: bool = True) -> pd.DataFrame:
    """One row per scope (every kind pooled, then each kind): the treatment's log-odds against the control,
    its Wald z test and interval, the odds ratio, and the variances of the crossed random intercepts."""
    frame = instances[instances["arm"].isin([treatment, control]) & (instances["n"] > 0)].copy()
    frame["arm"] = pd.Categorical(frame["arm"], categories=[control, treatment])
    frame["accuracy"] = frame["n_correct"] / frame["n"]
    frame["trials"] = 1.0  # the instance is one trial, however many replicates it has
    scopes = [("all", frame)]
    if by_kind and frame["kind"].nunique() > 1:
        scopes += [(kind, part) for kind, part in frame.groupby("kind", sort=True, observed=True)]
    return pd.DataFrame([_fit_scope(kind, part, treatment) for kind, part in scopes], columns=GLMM_COLUMNS)


def _fit_scope(kind: str, frame: pd.DataFrame, treatment: str) -> dict:
    n_models, n_instances = frame["model"].nunique(), frame["problem_id"].nunique()
    terms = ["arm"] + (["(1|model)"] if n_models > 1 else []) + (["(1|problem_id)"] if n_instances > 1 else [])
    formula = "cbind(accuracy, trials - accuracy) ~ " + " + ".join(terms)
    row = {
        "kind": kind,
        "formula": formula,
        "n_obs": len(frame),
        "n_responses": int(frame["n"].sum()),
        "n_models": n_models,
        "n_instances": n_instances,
        "note": "" if n_models > 1 else "one model: no model intercept",
    }
    empty = dict.fromkeys(GLMM_COLUMNS[6:-1], math.nan)
    if frame["arm"].nunique() < 2 or len(terms) == 1:
        return empty | row | {"note": "needs both arms and more than one model or instance"}
    try:
        result = fit(formula, frame, family="binomial")
    except (ValueError, np.linalg.LinAlgError) as exc:  # e.g. every response right: no finite log-odds
        return empty | row | {"note": f"not fitted: {str(exc).splitlines()[0]}"}
    term = f"arm{treatment}"
    est = result.fixed.loc[term]
    q = stats.norm.ppf(0.975)
    lo, hi = est["estimate"] - q * est["se"], est["estimate"] + q * est["se"]
    variances = {(r["group"], r.get("term")): r["variance"] for r in result.random if "variance" in r}
    notes = [row["note"], "singular fit" if result.singular else ""]
    if abs(est["estimate"]) > SEPARATION:  # one arm all right (or all wrong) where the other is not
        notes.append("separation: the log-odds runs off to infinity; read the paired tests")
    return row | {
        "log_odds": float(est["estimate"]),
        "se": float(est["se"]),
        "z": float(est["statistic"]),
        "p": float(est["p"]),
        "ci_low": float(lo),
        "ci_high": float(hi),
        "odds_ratio": _exp(est["estimate"]),
        "or_ci_low": _exp(lo),
        "or_ci_high": _exp(hi),
        "model_variance": variances.get(("model", "(Intercept)"), math.nan),
        "instance_variance": variances.get(("problem_id", "(Intercept)"), math.nan),
        "singular": bool(result.singular),
        "converged": bool(result.converged),
        "note": "; ".join(filter(None, notes)),
    }


def _exp(x: float) -> float:
    return math.exp(x) if x < 700 else math.inf
