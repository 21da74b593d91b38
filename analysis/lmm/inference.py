"""Degrees of freedom for the fixed-effect t tests: Satterthwaite as lmerTest, Kenward–Roger as pbkrtest.

Satterthwaite (lmerTest 3.1, `as_lmerModLT` and `contest1D`): A = 2·H⁻¹ with H the Hessian of the
deviance in the variance parameters (θ, σ) (a Moore–Penrose inverse over eigenvalues > 1e-8), J_i the
derivative of vcov(β) in each of them, and for a contrast ℓ: df = 2(ℓ′Vℓ)² / (g′Ag), g_i = ℓ′J_iℓ.
Both derivatives are numDeriv's Richardson extrapolations with numDeriv's steps.

Kenward–Roger (pbkrtest 0.5, `vcovAdj_internal` and `Lb_ddf`): the adjusted covariance Φ_A = Φ + 2ΦUΦ
and the scaled F's denominator df, from the dense n × n marginal covariance Σ = Σ_i γ_i G_i. It is dense
like pbkrtest's, so it is refused above MAX_KR_ROWS observations.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from . import numderiv
from .design import Design

EIGEN_TOL = 1e-8  # lmerTest's tol for the Hessian's eigenvalues
HESSIAN_STEP = 1e-3  # relative base step of the Hessian (numderiv's module docstring says why)
MAX_KR_ROWS = 4000


def satterthwaite(deviance_vp, vcov_vp, varpar: np.ndarray, contrasts: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """df for each row of `contrasts` (in the parametrisation of `vcov_vp`), and warnings as lmerTest's."""
    H = numderiv.hessian(deviance_vp, varpar, HESSIAN_STEP)
    values, vectors = np.linalg.eigh(H)
    notes = []
    if (values < -EIGEN_TOL).any():
        notes.append(
            "Satterthwaite: the deviance's Hessian in the variance parameters has negative eigenvalues "
            + " ".join(f"{v:.1e}" for v in values[values < -EIGEN_TOL])
            + " (the fit may not have converged)"
        )
    if (np.abs(values) <= EIGEN_TOL).any():
        notes.append("Satterthwaite: the deviance's Hessian in the variance parameters has eigenvalues close to zero")
    pos = values > EIGEN_TOL
    A = 2.0 * (vectors[:, pos] / values[pos]) @ vectors[:, pos].T
    p = contrasts.shape[1]
    jac = numderiv.jacobian(lambda vp: vcov_vp(vp).ravel(), varpar)
    J = [jac[:, i].reshape(p, p) for i in range(len(varpar))]
    V = vcov_vp(varpar)
    df = np.empty(len(contrasts))
    for r, L in enumerate(contrasts):
        var = L @ V @ L
        g = np.array([L @ Ji @ L for Ji in J])
        df[r] = 2.0 * var**2 / (g @ A @ g)
    return df, notes


def kenward_roger(design: Design, vcov: np.ndarray, components: list[np.ndarray], sigma2: float):
    """pbkrtest's adjusted vcov(β) and the df of each coefficient's t test (REML fits only).

    `components` holds each random term's covariance matrix (original scale), in the terms' order.
    """
    n = design.n
    if n > MAX_KR_ROWS:
        raise ValueError(
            f"--df kenward-roger builds dense {n} × {n} matrices (as pbkrtest does); it is limited to "
            f"{MAX_KR_ROWS} observations: use the default Satterthwaite df"
        )
    X = design.X
    G, gamma = [], []
    for term, Sigma_t in zip(design.terms, components):
        Z = np.zeros((n, term.q))
        for a in range(term.k):
            Z[np.arange(n), term.codes * term.k + a] = term.values[:, a]
        for j in range(term.k):
            for i in range(j, term.k):
                E = np.zeros((term.k, term.k))
                E[i, j] = E[j, i] = 1.0
                ZE = Z @ np.kron(np.eye(term.n_levels), E)
                G.append(ZE @ Z.T)
                gamma.append(Sigma_t[i, j])
    G.append(np.eye(n))
    gamma.append(sigma2)
    Sigma = sum(g * Gi for g, Gi in zip(gamma, G))
    Si = scipy.linalg.cho_solve(scipy.linalg.cho_factor(Sigma), np.eye(n))
    m = len(G)
    Phi = vcov
    TT = Si @ X
    HH = [Gi @ Si for Gi in G]
    OO = [H @ X for H in HH]
    PP = [-(o.T @ TT) for o in OO]
    PP = [(P + P.T) / 2 for P in PP]
    QQ = {(r, s): OO[r].T @ Si @ OO[s] for r in range(m) for s in range(r, m)}
    IE2 = np.empty((m, m))
    for i in range(m):
        for j in range(i, m):
            ktrace = float(np.sum(HH[i].T * HH[j]))
            IE2[i, j] = IE2[j, i] = (
                ktrace - 2 * float(np.sum(Phi * QQ[i, j])) + float(np.sum((Phi @ PP[i]) * (PP[j] @ Phi)))
            )
    condition = float(np.min(np.abs(np.linalg.eigvalsh(IE2))))
    W = 2 * (np.linalg.inv(IE2) if condition > 1e-10 else np.linalg.pinv(IE2))
    W = (W + W.T) / 2
    U = np.zeros_like(Phi)
    for i in range(m - 1):
        for j in range(i + 1, m):
            U += W[i, j] * (QQ[i, j] - PP[i] @ Phi @ PP[j])
    U = U + U.T
    for i in range(m):
        U += W[i, i] * (QQ[i, i] - PP[i] @ Phi @ PP[i])
    adjusted = Phi + 2 * Phi @ U @ Phi
    df = np.array([_lb_ddf(np.eye(len(Phi))[r], Phi, PP, W) for r in range(len(Phi))])
    return adjusted, df


def _lb_ddf(L: np.ndarray, V0: np.ndarray, P: list[np.ndarray], W: np.ndarray) -> float:
    """pbkrtest::Lb_ddf for one contrast (q = 1)."""
    L = L[None, :]
    Theta = L.T @ np.linalg.solve(L @ V0 @ L.T, L)
    TV = Theta @ V0
    A1 = A2 = 0.0
    m = len(P)
    for i in range(m):
        ui = TV @ P[i] @ V0
        for j in range(i, m):
            e = 1.0 if i == j else 2.0
            uj = TV @ P[j] @ V0
            A1 += e * W[i, j] * np.trace(ui) * np.trace(uj)
            A2 += e * W[i, j] * float(np.sum(ui * uj.T))
    q = 1
    B = (A1 + 6 * A2) / (2 * q)
    g = ((q + 1) * A1 - (q + 4) * A2) / ((q + 2) * A2)
    denom = 3 * q + 2 * (1 - g)
    c1, c2, c3 = g / denom, (q - g) / denom, (q + 2 - g) / denom
    v0 = 1 + c1 * B
    v1 = 1 - c2 * B
    v2 = 1 - c3 * B
    v0 = 0.0 if abs(v0) < 1e-10 else v0
    x, y = 1 - A2 / q, v1
    ratio = 1.0 if abs(x) < 1e-14 and abs(y) < 1e-14 else x / y
    rho = 1 / q * ratio**2 * v0 / v2
    return 4 + (q + 2) / (q * rho - 1)
