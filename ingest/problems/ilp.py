"""Fine-grained integer programs: assignment, production planning, partition. Golds are exact integers.

Question texts keep the research pipeline's wording so its legacy files can be regraded from the
question alone (`parse_question`).
"""

from __future__ import annotations

import ast
import re
from typing import Any

import numpy as np

from .base import Kind


def _literal_after(label: str, text: str) -> Any:
    m = re.search(re.escape(label) + r"\s*=\s*(\[[^\n]*\])", text)
    if not m:
        return None
    try:
        return ast.literal_eval(m.group(1))
    except (ValueError, SyntaxError):
        return None


class IlpAssign(Kind):
    name = "ilp_assign"

    def generate(self, rng, digit):
        n = max(2, digit)
        return {"costs": [[rng.randint(1, 50) for _ in range(n)] for _ in range(n)]}

    def question(self, instance):
        return (
            "Assignment problem: Given an n×n cost matrix C, assign each worker to one task minimizing the total "
            "cost. Return the minimum total cost as an integer. \n"
            f"C = {instance['costs']}"
        )

    def parse_question(self, text):
        costs = _literal_after("C", text)
        return {"costs": costs} if costs else None

    def solve(self, instance):
        return hungarian(instance["costs"])


def hungarian(costs: list[list[int]]) -> int:
    """Minimum-cost perfect assignment, O(n^3), with integer potentials (exact)."""
    n = len(costs)
    inf = float("inf")
    u, v = [0] * (n + 1), [0] * (n + 1)
    match, way = [0] * (n + 1), [0] * (n + 1)  # match[j]: row assigned to column j (1-based)
    for row in range(1, n + 1):
        match[0], col0 = row, 0
        minv, used = [inf] * (n + 1), [False] * (n + 1)
        while True:
            used[col0] = True
            i0, delta, col1 = match[col0], inf, 0
            for j in range(1, n + 1):
                if not used[j]:
                    cur = costs[i0 - 1][j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, col0
                    if minv[j] < delta:
                        delta, col1 = minv[j], j
            for j in range(n + 1):
                if used[j]:
                    u[match[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            col0 = col1
            if match[col0] == 0:
                break
        while col0:
            col1 = way[col0]
            match[col0] = match[col1]
            col0 = col1
    return sum(costs[match[j] - 1][j - 1] for j in range(1, n + 1))


class IlpProd(Kind):
    name = "ilp_prod"
    resources = 2

    def generate(self, rng, digit):
        n = max(2, digit)
        bounds = [rng.randint(1, 3) for _ in range(n)]
        consumption = [[rng.randint(1, 9) for _ in range(n)] for _ in range(self.resources)]
        capacity = []
        for row in consumption:
            full = sum(c * b for c, b in zip(row, bounds))
            capacity.append(rng.randint(max(1, full // 4), max(1, full // 2)))
        return {
            "profit": [rng.randint(1, 30) for _ in range(n)],
            "consumption": consumption,
            "capacity": capacity,
            "upper_bounds": bounds,
        }

    def question(self, instance):
        return (
            "Production planning: Choose integer quantities x_j ≥ 0 to maximize total profit sum_j profit[j]*x_j, "
            "subject to resource constraints sum_j consumption[i][j]*x_j ≤ capacity[i] and x_j ≤ upper_bounds[j]. "
            "Return the max profit.\n"
            f"profit = {instance['profit']}\n"
            f"consumption (rows=resources) = {instance['consumption']}\n"
            f"capacity = {instance['capacity']}\n"
            f"upper_bounds = {instance['upper_bounds']}"
        )

    def parse_question(self, text):
        parts = {
            "profit": _literal_after("profit", text),
            "consumption": _literal_after("consumption (rows=resources)", text),
            "capacity": _literal_after("capacity", text),
            "upper_bounds": _literal_after("upper_bounds", text),
        }
        return None if any(v is None for v in parts.values()) else parts

    def solve(self, instance):
        args = instance["profit"], instance["consumption"], instance["capacity"], instance["upper_bounds"]
        # Generated instances have two resources (a table); legacy ones have up to 16 (branch and bound).
        return production_dp(*args) if len(instance["capacity"]) == 2 else production_bb(*args)


def production_dp(profit, consumption, capacity, bounds) -> int:
    """Bounded integer knapsack over two resources: best[c1, c2] = best profit within (c1, c2). Exact int64."""
    c1, c2 = capacity
    best = np.zeros((c1 + 1, c2 + 1), dtype=np.int64)
    for j, p in enumerate(profit):
        w1, w2 = consumption[0][j], consumption[1][j]
        nxt = best.copy()
        for k in range(1, bounds[j] + 1):
            a, b = k * w1, k * w2
            if a > c1 or b > c2:
                break
            np.maximum(nxt[a:, b:], best[: c1 + 1 - a, : c2 + 1 - b] + k * p, out=nxt[a:, b:])
        best = nxt
    return int(best[c1, c2])


def production_bb(profit, consumption, capacity, bounds) -> int:
    """The same program for any number of resources: depth-first branch and bound.

    The bound relaxes to one resource at a time (a fractional knapsack) and takes the smallest; it only
    prunes, and only when it cannot reach one more than the best so far, so the result stays exact.
    """
    n, m = len(profit), len(capacity)
    order = sorted(range(n), key=lambda j: (-profit[j] / (1 + sum(consumption[i][j] for i in range(m))), j))
    best = 0

    def bound(k: int, left: list[int], value: int) -> float:
        rest = order[k:]
        tightest = float("inf")
        for i in range(m):
            total, room = float(value), float(left[i])
            for j in sorted(rest, key=lambda j: -profit[j] / consumption[i][j] if consumption[i][j] else -float("inf")):
                w = consumption[i][j]
                take = bounds[j] if w == 0 else min(bounds[j], room / w)
                total += take * profit[j]
                room -= take * w
            tightest = min(tightest, total)
        return tightest

    def search(k: int, left: list[int], value: int) -> None:
        nonlocal best
        best = max(best, value)
        if k == n or bound(k, left, value) + 1e-6 < best + 1:
            return
        j = order[k]
        most = min([bounds[j]] + [left[i] // consumption[i][j] for i in range(m) if consumption[i][j]])
        for count in range(most, -1, -1):
            search(k + 1, [left[i] - count * consumption[i][j] for i in range(m)], value + count * profit[j])

    search(0, list(capacity), 0)
    return best


class IlpPartition(Kind):
    name = "ilp_partition"

    def generate(self, rng, digit):
        return {"weights": [rng.randint(1, 100) for _ in range(max(2, digit))]}

    def question(self, instance):
        return (
            "Partition: Split the items into two groups to minimize the absolute difference between the sums. "
            "Return the minimum difference as an integer.\n"
            f"weights = {instance['weights']}"
        )

    def parse_question(self, text):
        weights = _literal_after("weights", text)
        return {"weights": weights} if weights else None

    def solve(self, instance):
        weights = instance["weights"]
        total = sum(weights)
        reachable = 1  # bit s set: some subset sums to s
        for w in weights:
            reachable |= reachable << w
        best = max(s for s in range(total // 2 + 1) if reachable >> s & 1)
        return total - 2 * best
