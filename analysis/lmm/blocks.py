"""Blocked linear algebra for Λ′Z′WZΛ + I: the largest random term eliminated level by level.

The random term with the most coefficients (instances, in an eval) has a block-diagonal cross-product:
one k × k block per level. It is factorised block by block; everything else (the other random terms, and
X and y where a caller appends them) forms a small dense Schur complement. Cost per factorisation is
O(levels · k² · m + m³) for m "rest" columns, independent of the number of rows once the cross-products
are formed, and those are formed by sparse products in O(rows · nonzeros per row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from .design import Term

MAX_DENSE = 60_000_000  # entries of the dense level × rest block; beyond it the design is refused


def term_matrix(term: Term) -> sp.csr_matrix:
    """Z of one term: row i has the term's values at columns code_i · k + a."""
    n, k = term.values.shape
    rows = np.repeat(np.arange(n), k)
    cols = (term.codes[:, None] * k + np.arange(k)[None, :]).ravel()
    return sp.csr_matrix((term.values.ravel(), (rows, cols)), shape=(n, term.q))


@dataclass(frozen=True)
class Layout:
    """Where each rest term's columns sit among the m rest columns: (offset, levels, k)."""

    blocks: tuple[tuple[int, int, int], ...]
    m: int

    @property
    def q(self) -> int:
        return sum(levels * k for _, levels, k in self.blocks)


@dataclass(frozen=True)
class Cross:
    """Weighted cross-products: BB per level (L, k, k), BR (L, k, m), RR (m, m)."""

    BB: np.ndarray
    BR: np.ndarray
    RR: np.ndarray


def check_size(big: Term, m: int) -> None:
    if big.q * m > MAX_DENSE:
        raise ValueError(
            f"the random effects are too large for this fit: {big.q} coefficients of {big.group} × {m} other "
            "columns (other random terms and fixed effects) would be a dense block of "
            f"{big.q * m:,} numbers (limit {MAX_DENSE:,})"
        )


def cross_products(big: Term, Zb: sp.csr_matrix, rest: sp.csr_matrix, weights: np.ndarray | None) -> Cross:
    """Z_B′WZ_B by level, Z_B′W·rest and rest′W·rest; W = diag(weights) (identity when None)."""
    L, k = big.n_levels, big.k
    v = big.values if weights is None else big.values * weights[:, None]
    BB = np.empty((L, k, k))
    for a in range(k):
        for b in range(a, k):
            BB[:, a, b] = BB[:, b, a] = np.bincount(big.codes, weights=v[:, a] * big.values[:, b], minlength=L)
    m = rest.shape[1]
    if not m:
        return Cross(BB, np.zeros((L, k, 0)), np.zeros((0, 0)))
    if k == 1:  # one bincount over the stored values of `rest` instead of a sparse product
        n = rest.shape[0]
        rows = np.repeat(np.arange(n), np.diff(rest.indptr))
        data = rest.data * big.values[rows, 0]
        if weights is not None:
            data = data * weights[rows]
        index = big.codes[rows] * m + rest.indices
        BR = np.bincount(index, weights=data, minlength=L * m).reshape(L, 1, m)
    else:
        rest_w = rest if weights is None else sp.diags(weights) @ rest
        BR = (Zb.T @ rest_w).toarray().reshape(L, k, m)
    RR = _gram(rest, weights)
    return Cross(BB, BR, RR)


def _gram(rest: sp.csr_matrix, weights: np.ndarray | None) -> np.ndarray:
    """rest′W·rest. With the same number s of stored values in every row (one per random-term column,
    one per fixed effect), as one bincount over the s² pairs of each row; else a sparse product."""
    n, m = rest.shape
    s = rest.nnz // n if n else 0
    if not n or rest.nnz != n * s or s > 12:
        w = rest if weights is None else sp.diags(weights) @ rest
        return (rest.T @ w).toarray()
    cols = rest.indices.reshape(n, s)
    vals = rest.data.reshape(n, s)
    wv = vals if weights is None else vals * weights[:, None]
    fixed = np.all(cols == cols[0], axis=0)  # X's columns sit at the same place in every row
    out = np.zeros((m, m))
    F = np.flatnonzero(fixed)
    if F.size:  # dense × dense: plain sums
        block = np.einsum("ni,nj->ij", wv[:, F], vals[:, F])
        out[np.ix_(cols[0, F], cols[0, F])] = block
    for i in np.flatnonzero(~fixed):
        for j in range(s):
            if fixed[j]:  # sparse × dense: one bincount per pair, into a column
                col = np.bincount(cols[:, i], weights=wv[:, i] * vals[:, j], minlength=m)
                out[:, cols[0, j]] += col
                out[cols[0, j], :] += col
            elif j >= i:  # sparse × sparse
                pair = np.bincount(cols[:, i] * m + cols[:, j], weights=wv[:, i] * vals[:, j], minlength=m * m)
                out += pair.reshape(m, m) if j == i else pair.reshape(m, m) + pair.reshape(m, m).T
    return out


def right_lambda(M: np.ndarray, layout: Layout, Ts: list[np.ndarray]) -> np.ndarray:
    """M·D where D = blockdiag(I_L ⊗ T for each rest term, I for the remaining columns)."""
    out = M.copy()
    for (offset, levels, k), T in zip(layout.blocks, Ts):
        block = M[..., offset : offset + levels * k]
        if k == 1:
            out[..., offset : offset + levels] = block * T[0, 0]
        else:
            shape = block.shape
            out[..., offset : offset + levels * k] = (block.reshape(*shape[:-1], levels, k) @ T).reshape(shape)
    return out


def system(cross: Cross, layout: Layout, T_big: np.ndarray, Ts: list[np.ndarray]):
    """A_BB = T′C_BB T + I, A_BR = T′C_BR D, A_RR = D′C_RR D + I on the random-effect columns."""
    k = T_big.shape[0]
    if k == 1:
        t = T_big[0, 0]
        A_BB = cross.BB * (t * t) + 1.0
        A_BR = cross.BR * t
    else:
        A_BB = T_big.T @ cross.BB @ T_big + np.eye(k)
        A_BR = T_big.T @ cross.BR
    A_BR = right_lambda(A_BR, layout, Ts)
    A_RR = right_lambda(right_lambda(cross.RR, layout, Ts).T, layout, Ts)
    q = layout.q
    A_RR[np.arange(q), np.arange(q)] += 1.0
    return A_BB, A_BR, A_RR


class NotPositiveDefinite(ValueError):
    pass


class BlockCholesky:
    """Cholesky factor of [[A_BB, A_BR], [A_BR′, A_RR]] with A_BB block diagonal by level."""

    def __init__(self, A_BB: np.ndarray, A_BR: np.ndarray, A_RR: np.ndarray):
        L, k, m = A_BR.shape
        self.k = k
        if k == 1:
            d = A_BB[:, 0, 0]
            if not np.all(d > 0):
                raise NotPositiveDefinite("block not positive definite")
            self.lb = np.sqrt(d)
            self.W = A_BR[:, 0, :] / self.lb[:, None]
            self.logdet_big = 2.0 * float(np.sum(np.log(self.lb)))
        else:
            try:
                self.LB = np.linalg.cholesky(A_BB)
            except np.linalg.LinAlgError:
                raise NotPositiveDefinite("block not positive definite") from None
            self.W = np.linalg.solve(self.LB, A_BR).reshape(L * k, m)
            self.logdet_big = 2.0 * float(np.sum(np.log(np.diagonal(self.LB, axis1=1, axis2=2))))
        S = A_RR - self.W.T @ self.W
        try:
            self.R = np.linalg.cholesky(S) if m else np.zeros((0, 0))
        except np.linalg.LinAlgError:
            raise NotPositiveDefinite("Schur complement not positive definite") from None
        self.L_levels = L

    @property
    def diag_rest(self) -> np.ndarray:
        return np.diagonal(self.R)

    def _big_solve(self, b: np.ndarray, transpose: bool) -> np.ndarray:
        if self.k == 1:
            return b / self.lb
        LB = np.swapaxes(self.LB, 1, 2) if transpose else self.LB
        return np.linalg.solve(LB, b.reshape(self.L_levels, self.k, 1)).reshape(-1)

    def solve(self, b_big: np.ndarray, b_rest: np.ndarray, m: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """A⁻¹b for the leading m rest columns (all by default): (x_big, x_rest)."""
        m = self.R.shape[0] if m is None else m
        R, W = self.R[:m, :m], self.W[:, :m]
        z_big = self._big_solve(b_big, transpose=False)
        z_rest = scipy.linalg.solve_triangular(R, b_rest[:m] - W.T @ z_big, lower=True) if m else b_rest[:0]
        x_rest = scipy.linalg.solve_triangular(R.T, z_rest, lower=False) if m else z_rest
        x_big = self._big_solve(z_big - W @ x_rest, transpose=True)
        return x_big, x_rest
