"""The analysis unit: one row per model × problem instance × arm, with the replicate counts.

`marts.acc_model_arm_instance` holds exactly this frame; `instances_from_responses` makes it from one row
per graded response (tests, callers that hold responses). Seeds and samples are replicates of an
instance: they enter only through `n` (responses that came back) and `n_correct`, so copying the data
under more seeds scales both and changes no per-instance accuracy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ALL_MODELS = "All models"  # the pooled rows of every table
INSTANCE_KEY = ("model", "problem_id", "arm")
INSTANCE_COLUMNS = ("model", "problem_id", "kind", "digit", "arm", "n", "n_correct")
RESPONSE_COLUMNS = ("model", "kind", "digit", "arm", "seed", "sample", "problem_id", "is_correct")


def instances_from_responses(responses: pd.DataFrame) -> pd.DataFrame:
    """One row per model × problem_id × arm from one row per answered response (the mart's columns).

    `responses` holds `model, kind, digit, arm, seed, sample, problem_id, is_correct` (and `lab`, and
    `reported_correct` for imports); every row is a response that came back.
    """
    missing = set(RESPONSE_COLUMNS) - set(responses.columns)
    if missing:
        raise ValueError(f"responses lack column(s) {', '.join(sorted(missing))}")
    frame = pd.DataFrame(
        {
            "model": responses["model"].astype(str).to_numpy(),
            "problem_id": responses["problem_id"].astype(str).to_numpy(),
            "arm": responses["arm"].astype(str).to_numpy(),
            "kind": responses["kind"].astype(str).to_numpy(),
            "digit": responses["digit"].fillna(0).astype(np.int64).to_numpy(),
            "lab": responses["lab"].astype(object).to_numpy() if "lab" in responses else None,
            "is_correct": responses["is_correct"].fillna(False).astype(bool).to_numpy(),
            "reported": responses["reported_correct"].notna().to_numpy() if "reported_correct" in responses else False,
            "correct_reported": (responses["reported_correct"].fillna(False).astype(bool).to_numpy())
            if "reported_correct" in responses
            else False,
        }
    )
    out = frame.groupby(list(INSTANCE_KEY), sort=True, as_index=False).agg(
        lab=("lab", "first"),
        kind=("kind", "first"),
        digit=("digit", "first"),
        n=("is_correct", "size"),
        n_correct=("is_correct", "sum"),
        n_reported=("reported", "sum"),
        n_correct_reported=("correct_reported", "sum"),
    )
    out["accuracy"] = out["n_correct"] / out["n"]
    columns = ["model", "lab", "problem_id", "kind", "digit", "arm", "n", "n_correct", "accuracy"]
    return out[[*columns, "n_reported", "n_correct_reported"]].astype(
        {"n": np.int64, "n_correct": np.int64, "n_reported": np.int64, "n_correct_reported": np.int64}
    )


def check_instances(instances: pd.DataFrame) -> pd.DataFrame:
    """The frame with rows of no answered response dropped, or a ValueError that says what is wrong."""
    missing = set(INSTANCE_COLUMNS) - set(instances.columns)
    if missing:
        hint = " (one row per response? aggregate with instances_from_responses)" if "is_correct" in instances else ""
        raise ValueError(f"instances lack column(s) {', '.join(sorted(missing))}{hint}")
    n = pd.to_numeric(instances["n"], errors="coerce")
    k = pd.to_numeric(instances["n_correct"], errors="coerce")
    bad = n.isna() | k.isna() | (k < 0) | (k > n) | (n < 0) | (n % 1 != 0) | (k % 1 != 0)
    if bad.any():
        row = instances[bad].iloc[0]
        raise ValueError(
            f"{int(bad.sum())} instance row(s) without 0 <= n_correct <= n (whole numbers), e.g."
            f" {row['model']} × {row['problem_id']} × {row['arm']}: n = {row['n']}, n_correct = {row['n_correct']}"
        )
    kept = instances[n > 0]
    if kept.empty:
        raise ValueError("no answered responses to analyse")
    dup = kept.duplicated(list(INSTANCE_KEY))
    if dup.any():
        row = kept[dup].iloc[0]
        raise ValueError(
            f"{int(dup.sum())} duplicate model × problem_id × arm row(s), e.g."
            f" {row['model']} × {row['problem_id']} × {row['arm']}: one row per instance and arm expected"
        )
    return kept
