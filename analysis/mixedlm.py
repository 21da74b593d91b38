"""The old entry point, kept for callers of `fit_mixedlm`: `formula + (1|group)` through `lmm.fit`.

New code calls `evalhouse.analysis.lmm.fit` with an lme4 formula; this wrapper only adds the random
intercept the old signature named separately (or checks it against the formula's random terms).
"""

from __future__ import annotations

import pandas as pd

from .lmm import MixedModelResult, fit

MixedLMResult = MixedModelResult  # the old name


def fit_mixedlm(
    data: pd.DataFrame,
    formula: str,
    group: str,
    reml: bool = True,
    df: str = "satterthwaite",
    check_statsmodels: bool = False,
) -> MixedModelResult:
    """Fit `formula + (1|group)` by REML (default) or ML, as lmer; t tests with Satterthwaite's df.

    `check_statsmodels` is accepted for old callers and ignored: the statsmodels cross-check is gone."""
    return fit(formula, data, reml=reml, df=df, group=group)
