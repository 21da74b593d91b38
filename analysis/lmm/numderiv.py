"""numDeriv's Richardson-extrapolated derivatives, step for step (R package numDeriv 2016.8-1).

lmerTest computes the Satterthwaite degrees of freedom from `numDeriv::hessian` of the deviance and
`numDeriv::jacobian` of vcov(β); using the same steps (h = |d·x| + eps where |x| is tiny, halved r = 4
times, then Richardson's extrapolation) gives the same figures. One exception, by choice: the second
differences of a Hessian divide rounding noise by h², and at numDeriv's d = 1e-4 our deviance's noise
(~1e-13, at machine precision) moves a Satterthwaite df by up to 0.5 % (sleepstudy: 17.07 where the exact
value is 17.000); callers pass d = 1e-3, where Richardson's truncation error is still far below 1e-6.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

EPS, D, ZERO_TOL, R, V = 1e-4, 1e-4, float(np.sqrt(np.finfo(float).eps / 7e-7)), 4, 2


def _h0(x: np.ndarray, d: float = D) -> np.ndarray:
    return np.abs(d * x) + EPS * (np.abs(x) < ZERO_TOL)


def _extrapolate(a: np.ndarray) -> np.ndarray:
    """Richardson over the first axis (successive halvings): returns the extrapolated value."""
    a = np.array(a, float)
    for m in range(1, R):
        a = (a[1:] * 4**m - a[:-1]) / (4**m - 1)
    return a[0]


def jacobian(func: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """numDeriv::jacobian(method = "Richardson"): (len(f), len(x))."""
    x = np.asarray(x, float)
    n = len(x)
    h = _h0(x)
    cols = []
    for i in range(n):
        approx, hi = [], h[i]
        for _ in range(R):
            e = np.zeros(n)
            e[i] = hi
            approx.append((np.asarray(func(x + e), float).ravel() - np.asarray(func(x - e), float).ravel()) / (2 * hi))
            hi = hi / V
        cols.append(_extrapolate(approx))
    return np.column_stack(cols)


def hessian(func: Callable[[np.ndarray], float], x: np.ndarray, d: float = D) -> np.ndarray:
    """numDeriv::hessian (genD, Richardson) of a scalar function; `d` is the relative base step."""
    x = np.asarray(x, float)
    n = len(x)
    h0 = _h0(x, d)
    f0 = float(func(x))
    diag = np.empty(n)
    for i in range(n):
        approx, h = [], h0.copy()
        for _ in range(R):
            e = np.zeros(n)
            e[i] = h[i]
            approx.append((float(func(x + e)) - 2 * f0 + float(func(x - e))) / h[i] ** 2)
            h = h / V
        diag[i] = _extrapolate(approx)
    H = np.diag(diag)
    for i in range(n):
        for j in range(i):
            approx, h = [], h0.copy()
            for _ in range(R):
                e = np.zeros(n)
                e[i], e[j] = h[i], h[j]
                f1, f2 = float(func(x + e)), float(func(x - e))
                approx.append((f1 - 2 * f0 + f2 - diag[i] * h[i] ** 2 - diag[j] * h[j] ** 2) / (2 * h[i] * h[j]))
                h = h / V
            H[i, j] = H[j, i] = _extrapolate(approx)
    return H
