"""Mixed models as lme4 fits them: lmer (REML/ML) with lmerTest's and pbkrtest's t tests, glmer (binomial).

    from evalhouse.analysis.lmm import fit
    res = fit("Reaction ~ Days + (Days|Subject)", frame)                       # lmer + Satterthwaite
    res = fit("cbind(k, n - k) ~ arm + (1|model) + (1|problem_id)", frame, family="binomial")
    res.fixed        # DataFrame by term: estimate, se, df, statistic, p
    res.random       # variance components as as.data.frame(VarCorr(m))
    res.conf_int()   # Wald intervals (t with each term's df, normal for z)
    res.loglik, res.singular, res.converged, res.to_dict(), res.summary(), res.latex()

Modules: `formula` (lme4 syntax), `design` (X, Z as R's model.matrix), `covariance` (θ), `blocks`
(blocked Cholesky), `lmm` (profiled deviance), `glmm` (PIRLS and Laplace), `numderiv` (numDeriv's
derivatives), `inference` (Satterthwaite, Kenward–Roger), `results`, `api` (fit).
"""

from .api import DF_METHODS, FAMILIES, fit
from .results import MixedModelResult

__all__ = ["DF_METHODS", "FAMILIES", "MixedModelResult", "fit"]
