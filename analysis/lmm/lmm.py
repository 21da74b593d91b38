"""The linear mixed model as lme4 fits it: the deviance profiled over θ, β and σ profiled out.

For given θ, the Cholesky factor of the augmented cross-product [Λ′Z′ZΛ + I, Λ′Z′X, Λ′Z′y; …; y′y]
holds everything: log|L_θ|² from the random-effect block, log|R_X|² from the X block and the penalised
residual sum of squares r² as the square of its last element (Bates et al. 2015, section 3.4). The
profiled deviance is log|L_θ|² + n(1 + log(2πr²/n)) under ML and
log|L_θ|² + log|R_X|² + (n − p)(1 + log(2πr²/(n − p))) under REML.

Numerically, the fit runs on y centred and scaled and on X replaced by the Q of its QR decomposition:
shifting y by 1e8 or a covariate by a constant leaves the fit unchanged. Estimates, variances and
likelihoods are mapped back exactly (β = R⁻¹(sβ_Q + m·c), log-likelihoods shifted by −(n − p)log s −
log|det R| under REML and −n log s under ML).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy import optimize

from .blocks import BlockCholesky, Layout, NotPositiveDefinite, check_size, cross_products, system, term_matrix
from .covariance import Covariance
from .design import Design


@dataclass(frozen=True)
class Scaling:
    """X = Q·R and y = centre + scale·y_s, and how to map internal figures back."""

    Q: np.ndarray
    R: np.ndarray
    centre: float
    scale: float
    c: np.ndarray  # Q′1 when the intercept is in X's column space, else zeros

    @classmethod
    def of(cls, X: np.ndarray, y: np.ndarray | None) -> Scaling:
        Q, R = np.linalg.qr(X)
        d = np.abs(np.diag(R))
        if d.size and d.min() <= 1e-10 * max(d.max(), 1.0) * math.sqrt(X.shape[0]):
            raise ValueError("the fixed-effect design is rank deficient (a column is a combination of the others)")
        ones = np.ones(X.shape[0])
        c = Q.T @ ones
        in_span = np.linalg.norm(Q @ c - ones) <= 1e-8 * math.sqrt(X.shape[0])
        if y is None:
            return cls(Q, R, 0.0, 1.0, np.zeros(X.shape[1]))
        centre = float(np.mean(y)) if in_span else 0.0
        spread = float(np.sqrt(np.mean((y - centre) ** 2)))
        return cls(Q, R, centre, spread if spread > 0 else 1.0, c if in_span else np.zeros(X.shape[1]))

    def beta(self, beta_q: np.ndarray) -> np.ndarray:
        return scipy.linalg.solve_triangular(self.R, self.scale * beta_q + self.centre * self.c)

    def vcov(self, vcov_q: np.ndarray) -> np.ndarray:
        Ri = scipy.linalg.solve_triangular(self.R, np.eye(self.R.shape[0]))
        return self.scale**2 * Ri @ vcov_q @ Ri.T

    @property
    def logdet_R(self) -> float:
        return float(np.sum(np.log(np.abs(np.diag(self.R)))))


@dataclass
class Factor:
    """The factorisation at one θ and the figures read off it (internal scale)."""

    chol: BlockCholesky
    q_rest: int  # random-effect columns among the rest columns
    p: int

    @cached_property
    def ldL2(self) -> float:
        d = self.chol.diag_rest[: self.q_rest]
        return self.chol.logdet_big + 2.0 * float(np.sum(np.log(d)))

    @cached_property
    def ldRX2(self) -> float:
        return 2.0 * float(np.sum(np.log(self.chol.diag_rest[self.q_rest : self.q_rest + self.p])))

    @cached_property
    def pwrss(self) -> float:
        return float(self.chol.diag_rest[-1] ** 2)

    @cached_property
    def solution(self) -> tuple[np.ndarray, np.ndarray]:
        """(u_big, [u_rest, β_Q]): the penalised least-squares solution."""
        R, W = self.chol.R, self.chol.W
        m1 = R.shape[0] - 1
        x_rest = scipy.linalg.solve_triangular(R[:m1, :m1].T, R[m1, :m1], lower=False)
        x_big = self.chol._big_solve(W[:, m1] - W[:, :m1] @ x_rest, transpose=True)
        return x_big, x_rest

    def unscaled_vcov(self) -> np.ndarray:
        """(R_X R_X′)⁻¹: vcov(β_Q) / σ²."""
        RX = self.chol.R[self.q_rest : self.q_rest + self.p, self.q_rest : self.q_rest + self.p]
        RXi = scipy.linalg.solve_triangular(RX, np.eye(self.p), lower=True)
        return RXi.T @ RXi


class LinearMixedModel:
    """Everything that does not depend on θ, computed once: the design's cross-products."""

    def __init__(self, design: Design, reml: bool):
        self.design, self.reml = design, reml
        self.n, self.p = design.n, design.p
        self.scaling = Scaling.of(design.X, design.y)
        self.cov = Covariance(tuple(t.k for t in design.terms))
        self.big = int(np.argmax([t.q for t in design.terms]))
        rest_terms = [i for i in range(len(design.terms)) if i != self.big]
        blocks, offset = [], 0
        for i in rest_terms:
            t = design.terms[i]
            blocks.append((offset, t.n_levels, t.k))
            offset += t.q
        self.rest_terms = rest_terms
        self.layout = Layout(tuple(blocks), offset + self.p + 1)
        check_size(design.terms[self.big], self.layout.m)
        s = self.scaling
        y_s = (design.y - s.centre) / s.scale
        rest = sp.hstack(
            [term_matrix(design.terms[i]) for i in rest_terms] + [sp.csr_matrix(s.Q), sp.csr_matrix(y_s[:, None])],
            format="csr",
        )
        big = design.terms[self.big]
        self.cross = cross_products(big, term_matrix(big), rest, None)

    def factor(self, theta: np.ndarray) -> Factor:
        Ts = self.cov.T(np.asarray(theta, float))
        A = system(self.cross, self.layout, Ts[self.big], [Ts[i] for i in self.rest_terms])
        return Factor(BlockCholesky(*A), self.layout.q, self.p)

    def deviance(self, theta: np.ndarray) -> float:
        """The profiled deviance (REML criterion under REML) on the internal scale; ∞ where undefined."""
        try:
            f = self.factor(theta)
        except NotPositiveDefinite:
            return math.inf
        if not f.pwrss > 0:
            return math.inf
        n = self.n - self.p if self.reml else self.n
        dev = f.ldL2 + n * (1.0 + math.log(2 * math.pi * f.pwrss / n))
        return dev + f.ldRX2 if self.reml else dev

    def deviance_vp(self, varpar: np.ndarray) -> float:
        """lmerTest's deviance in (θ, σ), not profiled (`devfun_vp`), on the internal scale."""
        theta, sigma2 = varpar[:-1], varpar[-1] ** 2
        f = self.factor(theta)
        dev = f.ldL2 + f.pwrss / sigma2 + self.n * math.log(2 * math.pi * sigma2)
        if self.reml:
            dev += f.ldRX2 - self.p * math.log(2 * math.pi * sigma2)
        return dev

    def vcov_vp(self, varpar: np.ndarray) -> np.ndarray:
        """vcov(β_Q) at (θ, σ) (lmerTest's `get_covbeta`), internal scale."""
        return varpar[-1] ** 2 * self.factor(varpar[:-1]).unscaled_vcov()

    def sigma(self, f: Factor) -> float:
        return math.sqrt(f.pwrss / (self.n - self.p if self.reml else self.n))

    def loglik_shift(self) -> float:
        """Add to an internal log-likelihood to get the one of the data as given."""
        s = self.scaling
        if self.reml:
            return -(self.n - self.p) * math.log(s.scale) - s.logdet_R
        return -self.n * math.log(s.scale)


def optimise(deviance, cov: Covariance) -> tuple[np.ndarray, bool]:
    """θ̂ minimising the deviance. One θ: a log grid with 0, then bounded Brent (the global minimum, ties
    to the boundary). Several: COBYQA (Powell's successor to lme4's BOBYQA) from lme4's start, then
    L-BFGS-B from there to polish; the lower of the two."""
    if cov.n_theta == 1:
        return _optimise_scalar(deviance)
    bounds = [(0.0, None) if lo == 0 else (None, None) for lo in cov.lower]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        first = optimize.minimize(
            deviance,
            cov.start,
            method="COBYQA",
            bounds=bounds,
            options={"initial_tr_radius": 0.2, "final_tr_radius": 1e-10, "maxfev": 200 * (cov.n_theta + 1) ** 2},
        )
        polish = optimize.minimize(
            deviance,
            first.x,
            method="L-BFGS-B",
            jac="3-point",
            bounds=bounds,
            options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 5000, "maxls": 50},
        )
    best = polish if polish.fun <= first.fun else first
    x = np.where((cov.lower == 0) & (best.x < 0), 0.0, best.x)
    return x, bool(first.success or polish.success) and math.isfinite(deviance(x))


def _optimise_scalar(deviance) -> tuple[np.ndarray, bool]:
    f = lambda t: deviance(np.array([t]))
    top = 3.0
    while True:
        grid = np.concatenate([[0.0], np.logspace(-6, top, int(30 * (top + 6)))])
        values = np.array([f(t) for t in grid])
        if not np.isfinite(values).any():
            raise ValueError(
                "the (RE)ML criterion is not finite for any random-effect variance: the fixed effects fit the "
                "response exactly (no residual variance)"
            )
        best = int(np.argmin(values))
        if best < len(grid) - 1 or top >= 12:
            break
        top += 3.0
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(
        f, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12 * max(hi, 1e-6), "maxiter": 500}
    )
    candidates = [(f(t), t) for t in (float(res.x), float(grid[best]))]
    dev, theta = min(candidates)
    at_zero = f(0.0)
    if at_zero <= dev + 1e-10 * max(1.0, abs(dev)):  # a tie within rounding goes to the boundary, as lme4's
        dev, theta = at_zero, 0.0
    return np.array([theta]), bool(res.success or theta in (0.0, grid[best])) and math.isfinite(dev)
