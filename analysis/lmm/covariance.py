"""lme4's parametrisation of the random-effect covariance: θ fills a lower-triangular T per term.

For a term with k columns, Σ_term = σ² T T′ (σ = 1 in a GLMM) and θ lists T's lower triangle column by
column, as `getME(m, "theta")` does: (T11, T21, T22) for k = 2. Diagonal entries have lower bound 0
(lme4's `lower`), which is also what `isSingular` inspects; off-diagonal entries are free.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class Covariance:
    ks: tuple[int, ...]  # columns per random term

    @cached_property
    def _index(self) -> list[list[tuple[int, int]]]:
        return [[(i, j) for j in range(k) for i in range(j, k)] for k in self.ks]

    @cached_property
    def offsets(self) -> list[int]:
        return list(np.cumsum([0] + [k * (k + 1) // 2 for k in self.ks]))

    @property
    def n_theta(self) -> int:
        return self.offsets[-1]

    @cached_property
    def lower(self) -> np.ndarray:
        """0 on diagonal elements, −∞ elsewhere."""
        return np.array([0.0 if i == j else -np.inf for idx in self._index for i, j in idx])

    @cached_property
    def start(self) -> np.ndarray:
        """lme4's default start: identity T."""
        return (self.lower == 0).astype(float)

    def T(self, theta: np.ndarray) -> list[np.ndarray]:
        out = []
        for t, (k, idx) in enumerate(zip(self.ks, self._index)):
            m = np.zeros((k, k))
            for value, (i, j) in zip(theta[self.offsets[t] : self.offsets[t + 1]], idx):
                m[i, j] = value
            out.append(m)
        return out

    def singular(self, theta: np.ndarray, tol: float = 1e-4) -> bool:
        """lme4's isSingular: a θ with lower bound 0 below `tol`."""
        return bool(np.any(theta[self.lower == 0] < tol))

    def pairs(self, term: int) -> list[tuple[int, int]]:
        """(i, j) of each θ of a term, in θ order (i ≥ j)."""
        return self._index[term]
