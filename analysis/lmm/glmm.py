"""The binomial GLMM (logit link) as glmer fits it by default: the Laplace approximation (nAGQ = 1).

For given (θ, β), PIRLS finds the conditional mode ũ of the spherical random effects u by Newton steps
on −2 log p(y | u) + ‖u‖² (with step halving, as lme4's pwrssUpdate), and the Laplace deviance is
glmer's `ldL2 + sqrL + aic()`: log|Λ′Z′WZΛ + I| + ‖ũ‖² − 2 log p(y | ũ), W the binomial weights at ũ.
As glmer: stage 1 optimises θ with β inside PIRLS (glmer's nAGQ = 0 fit) for a start; stage 2 optimises
the Laplace deviance over (θ, β). The covariance of β̂ is glmer's default, 2·H⁻¹ from the central
finite-difference Hessian of the stage-2 deviance (lme4's `deriv12`, at δ = 1e-3: see DERIV_DELTA), falling back to the
PIRLS R_X when that Hessian is not positive definite (as `vcov.merMod` does, with a warning).

Scale: identical design rows (same fixed-effect row and random-effect levels) are summed into binomial
counts first; the log-likelihood then differs from the one of the rows as given only by Σ log C(n, k),
which is added back, so `loglik` is glmer's for the data as given. Each PIRLS step costs one pass over the
(aggregated) rows and a blocked factorisation (module `blocks`): instances × models × arms at a million
rows is seconds per fit, not minutes.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import optimize
from scipy.special import gammaln

from .blocks import BlockCholesky, Layout, check_size, cross_products, system, term_matrix
from .covariance import Covariance
from .design import Design, Term

PIRLS_TOL = 1e-12  # relative change of the penalised deviance; lme4's tolPwrss is 1e-7
# Newton decrement of the last step: the error left in ũ is of its order, and log|L|² moves with ũ to first
# order, so a loose stop would put noise into the finite-difference Hessian that gives the SEs.
DECREMENT_TOL = 1e-15
DEBUG = False
PIRLS_MAXIT = 60
# lme4's deriv12 takes δ = 1e-4. Its second differences divide the deviance's rounding noise by δ², and a
# deviance of 1e5–1e6 (a few hundred thousand responses) makes that visible: at 200,000 rows δ = 1e-4 moved
# the intercept's SE by 8e-5 while 1e-2 … 1e-3 agree to 2e-7; on 1,000,000 rows glmer's own SE of the
# intercept is 5 % off at its defaults and 150× off with tight tolerances. 1e-3 is where it has settled.
DERIV_DELTA = 1e-3


@dataclass(frozen=True)
class Counts:
    """The design on aggregated rows: successes k of n trials per distinct design row."""

    X: np.ndarray
    terms: list[Term]
    k: np.ndarray
    n: np.ndarray
    log_choose_shift: float  # Σ log C(n, k) of the rows as given minus that of the aggregated rows


def aggregate(design: Design) -> Counts:
    """Sum rows that share the fixed-effect row and every random term's level and values."""
    k, n = design.successes, design.trials
    keys = [design.X] + [np.column_stack([t.codes, t.values]) for t in design.terms]
    frame = pd.DataFrame(np.column_stack(keys))
    row = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy()
    given = float(np.sum(_log_choose(n, k)))
    m = int(row.max()) + 1
    if m == len(row):
        return Counts(design.X, design.terms, k, n, 0.0)
    first = np.zeros(m, dtype=np.int64)
    first[row[::-1]] = np.arange(len(row))[::-1]  # the first row of each group
    K = np.bincount(row, weights=k, minlength=m)
    N = np.bincount(row, weights=n, minlength=m)
    terms = [Term(t.group, t.names, t.codes[first], t.levels, t.values[first]) for t in design.terms]
    return Counts(design.X[first], terms, K, N, given - float(np.sum(_log_choose(N, K))))


def _log_choose(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def _log_expit(eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log μ and log(1 − μ) without overflow: min(±η, 0) − log1p(e^−|η|) (one exp, one log1p)."""
    common = np.log1p(np.exp(-np.abs(eta)))
    return np.minimum(eta, 0.0) - common, np.minimum(-eta, 0.0) - common


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Σ a·b without BLAS: OpenBLAS's ddot is ~20× slower than this on a busy 2-core machine."""
    return float(np.einsum("i,i->", a, b))


@dataclass
class Mode:
    """PIRLS at one (θ, β): conditional modes and the pieces of the Laplace deviance."""

    u_big: np.ndarray  # (levels, k)
    u_rest: np.ndarray  # q_rest
    beta_q: np.ndarray
    ldL2: float
    sqrL: float
    minus2ll: float  # −2 log p(y | ũ) of the aggregated rows, binomial constants included
    chol: BlockCholesky

    @property
    def laplace(self) -> float:
        return self.ldL2 + self.sqrL + self.minus2ll


class BinomialMixedModel:
    def __init__(self, design: Design):
        self.design = design
        self.counts = c = aggregate(design)
        Q, R = np.linalg.qr(c.X)
        d = np.abs(np.diag(R))
        if d.size and d.min() <= 1e-10 * max(d.max(), 1.0) * math.sqrt(c.X.shape[0]):
            raise ValueError("the fixed-effect design is rank deficient (a column is a combination of the others)")
        root_n = math.sqrt(len(c.k))
        self.Q, self.R = Q * root_n, R / root_n  # X = QR with Q′Q = N: β_Q = Rβ is on β's own scale
        self.p = Q.shape[1]
        self.cov = Covariance(tuple(t.k for t in c.terms))
        self.big = int(np.argmax([t.q for t in c.terms]))
        self.rest_terms = [i for i in range(len(c.terms)) if i != self.big]
        blocks, offset = [], 0
        for i in self.rest_terms:
            blocks.append((offset, c.terms[i].n_levels, c.terms[i].k))
            offset += c.terms[i].q
        self.q_rest = offset
        big = c.terms[self.big]
        check_size(big, offset + self.p)
        self.Zb = term_matrix(big)
        Zr = [term_matrix(c.terms[i]) for i in self.rest_terms]
        self.rest_u = sp.hstack(Zr, format="csr") if Zr else sp.csr_matrix((len(c.k), 0))
        self.rest_ub = sp.hstack([self.rest_u, sp.csr_matrix(self.Q)], format="csr")
        self.layout_u = Layout(tuple(blocks), offset)
        self.layout_ub = Layout(tuple(blocks), offset + self.p)
        self.warm: Mode | None = None
        self.failures = c.n - c.k
        self.log_choose = float(np.sum(_log_choose(c.n, c.k)))

    # ---- linear predictor and gradients ------------------------------------------------------------
    def _eta(self, Ts, u_big, u_rest, beta_q) -> np.ndarray:
        c = self.counts
        eta = np.einsum("ij,j->i", self.Q, beta_q)
        big = c.terms[self.big]
        b = u_big @ Ts[self.big].T
        eta += np.einsum("ij,ij->i", big.values, b[big.codes]) if big.k > 1 else big.values[:, 0] * b[big.codes, 0]
        for i, (offset, levels, k) in zip(self.rest_terms, self.layout_u.blocks):
            t = c.terms[i]
            b = u_rest[offset : offset + levels * k].reshape(levels, k) @ Ts[i].T
            eta += np.einsum("ij,ij->i", t.values, b[t.codes]) if k > 1 else t.values[:, 0] * b[t.codes, 0]
        return eta

    def _zt(self, term: Term, T: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Λ_t′Z_t′v as (levels, k)."""
        sums = np.column_stack(
            [np.bincount(term.codes, weights=term.values[:, a] * v, minlength=term.n_levels) for a in range(term.k)]
        )
        return sums @ T

    def _deviance_parts(self, eta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        c = self.counts
        log_mu, log_1mu = _log_expit(eta)
        minus2ll = -2.0 * (_dot(c.k, log_mu) + _dot(self.failures, log_1mu) + self.log_choose)
        mu = np.exp(log_mu)
        return minus2ll, mu, c.n * mu * (1.0 - mu)

    # ---- PIRLS ---------------------------------------------------------------------------------------
    def pirls(self, theta: np.ndarray, beta_q: np.ndarray, with_beta: bool, start: Mode | None = None) -> Mode:
        """Conditional modes at θ (and β̂ too when `with_beta`), by damped Newton steps."""
        c = self.counts
        Ts = self.cov.T(theta)
        big = c.terms[self.big]
        start = start or self.warm
        if start is not None and start.u_big.shape == (big.n_levels, big.k):
            u_big, u_rest = start.u_big.copy(), start.u_rest.copy()
            if with_beta:
                beta_q = start.beta_q.copy()
        else:
            u_big, u_rest = np.zeros((big.n_levels, big.k)), np.zeros(self.q_rest)
        beta_q = np.asarray(beta_q, float).copy()
        layout = self.layout_ub if with_beta else self.layout_u
        rest = self.rest_ub if with_beta else self.rest_u

        def objective(ub, ur, bq):
            m2, mu, w = self._deviance_parts(self._eta(Ts, ub, ur, bq))
            return m2 + _dot(ub.ravel(), ub.ravel()) + _dot(ur, ur), m2, mu, w

        pdev, m2, mu, w = objective(u_big, u_rest, beta_q)
        for _ in range(PIRLS_MAXIT):
            r = c.k - c.n * mu
            g_big = self._zt(big, Ts[self.big], r) - u_big
            g_rest = [self._zt(c.terms[i], Ts[i], r).ravel() for i in self.rest_terms]
            g_rest = np.concatenate(g_rest + [np.zeros(0)]) - u_rest
            if with_beta:
                g_rest = np.concatenate([g_rest, np.einsum("ij,i->j", self.Q, r)])
            cross = cross_products(big, self.Zb, rest, w)
            chol = BlockCholesky(*system(cross, layout, Ts[self.big], [Ts[i] for i in self.rest_terms]))
            d_big, d_rest = chol.solve(g_big.ravel(), g_rest)
            d_big = d_big.reshape(u_big.shape)
            decrement = float(g_big.ravel() @ d_big.ravel() + g_rest @ d_rest)
            if DEBUG:
                print("pirls", _, pdev, decrement)
            step = 1.0
            for _halving in range(30):
                ub = u_big + step * d_big
                ur = u_rest + step * d_rest[: self.q_rest]
                bq = beta_q + step * d_rest[self.q_rest :] if with_beta else beta_q
                new = objective(ub, ur, bq)
                if new[0] <= pdev + 1e-12 * abs(pdev):
                    break
                step /= 2
            else:
                break
            u_big, u_rest, beta_q = ub, ur, bq
            old, (pdev, m2, mu, w) = pdev, new
            if abs(old - pdev) <= PIRLS_TOL * abs(pdev) and decrement <= DECREMENT_TOL * max(1.0, abs(pdev)):
                break
        cross = cross_products(big, self.Zb, self.rest_u, w)  # L at the weights of ũ
        chol = BlockCholesky(*system(cross, self.layout_u, Ts[self.big], [Ts[i] for i in self.rest_terms]))
        ldL2 = chol.logdet_big + 2.0 * float(np.sum(np.log(chol.diag_rest[: self.q_rest])))
        sqrL = float(np.sum(u_big * u_big) + u_rest @ u_rest)
        mode = Mode(u_big, u_rest, beta_q, ldL2, sqrL, m2, chol)
        self.warm = mode
        return mode

    # ---- the two stages -------------------------------------------------------------------------------
    def stage1(self, theta: np.ndarray) -> float:
        """glmer's nAGQ = 0 criterion: the Laplace deviance with β̂ from PIRLS."""
        try:
            return self.pirls(theta, np.zeros(self.p), with_beta=True).laplace
        except ValueError:
            return math.inf

    def laplace(self, x: np.ndarray) -> float:
        """The stage-2 criterion over (θ, β_Q)."""
        theta, beta_q = x[: self.cov.n_theta], x[self.cov.n_theta :]
        try:
            return self.pirls(theta, beta_q, with_beta=False).laplace
        except ValueError:
            return math.inf

    def fit(self) -> tuple[np.ndarray, np.ndarray, bool]:
        """(θ̂, β̂_Q, converged)."""
        bounds_theta = [(0.0, None) if lo == 0 else (None, None) for lo in self.cov.lower]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            s1 = optimize.minimize(
                self.stage1,
                self.cov.start,
                method="COBYQA",
                bounds=bounds_theta,
                options={
                    "initial_tr_radius": 0.2,
                    "final_tr_radius": 1e-3,
                    "maxfev": 100 * (self.cov.n_theta + 1) ** 2,
                },
            )
            theta1 = s1.x
            beta1 = self.pirls(theta1, np.zeros(self.p), with_beta=True).beta_q
            x0 = np.concatenate([theta1, beta1])
            bounds = bounds_theta + [(None, None)] * self.p
            best = optimize.minimize(
                self.laplace,
                x0,
                method="COBYQA",
                bounds=bounds,
                options={"initial_tr_radius": 0.05, "final_tr_radius": 1e-9, "maxfev": 200 * (len(x0) + 1) ** 2},
            )
        x = best.x.copy()
        nt = self.cov.n_theta
        x[:nt] = np.where((self.cov.lower == 0) & (x[:nt] < 0), 0.0, x[:nt])
        return x[:nt], x[nt:], bool(best.success) and math.isfinite(self.laplace(x))

    def unscaled_vcov_rx(self, theta: np.ndarray, mode: Mode) -> np.ndarray:
        """(R_X R_X′)⁻¹ at ũ in β_Q coordinates: vcov.merMod's fall-back when the Hessian is unusable."""
        c = self.counts
        Ts = self.cov.T(theta)
        eta = self._eta(Ts, mode.u_big, mode.u_rest, mode.beta_q)
        _, _, w = self._deviance_parts(eta)
        cross = cross_products(c.terms[self.big], self.Zb, self.rest_ub, w)
        chol = BlockCholesky(*system(cross, self.layout_ub, Ts[self.big], [Ts[i] for i in self.rest_terms]))
        RX = chol.R[self.q_rest :, self.q_rest :]
        RXi = np.linalg.inv(RX)
        return RXi.T @ RXi

    def laplace_beta(self, x: np.ndarray) -> np.ndarray:
        """The stage-2 criterion over (θ, β) in the coordinates of X as given (glmer's)."""
        nt = self.cov.n_theta
        return self.laplace(np.concatenate([x[:nt], self.R @ x[nt:]]))

    def hessian(self, x: np.ndarray) -> np.ndarray:
        """lme4's deriv12 of the stage-2 criterion at (θ, β): central differences with δ = DERIV_DELTA."""
        n = len(x)
        f = self.laplace_beta
        fx = f(x)
        H = np.empty((n, n))
        delta = DERIV_DELTA
        for j in range(n):
            e_j = np.eye(n)[j] * delta
            fadd, fsub = f(x + e_j), f(x - e_j)
            H[j, j] = (fadd - 2 * fx + fsub) / delta**2
            for i in range(j):
                e_i = np.eye(n)[i] * delta
                H[i, j] = H[j, i] = (f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j) + f(x - e_i - e_j)) / (
                    2 * delta
                ) ** 2
        return H
