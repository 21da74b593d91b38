"""Fine-grained kinds: arithmetic and small dynamic programs with exact integer golds.

Question texts follow the research pipeline's wording so its legacy files can be regraded from the
question alone (see `parse_question`).
"""

from __future__ import annotations

import random
import re
from typing import Any

from .base import Kind


def _number(rng: random.Random, digits: int) -> int:
    """A uniformly drawn integer with exactly `digits` decimal digits."""
    digits = max(1, digits)
    return rng.randint(10 ** (digits - 1), 10**digits - 1)


class _Arithmetic(Kind):
    symbol: str = "+"

    def generate(self, rng, digit):
        return {"a": _number(rng, digit), "b": _number(rng, digit)}

    def question(self, instance):
        return f"Compute: {instance['a']} {self.symbol} {instance['b']}"

    def parse_question(self, text: str) -> dict[str, Any] | None:
        m = re.search(r"(-?\d+)\s*" + re.escape(self.symbol) + r"\s*(-?\d+)", text)
        return {"a": int(m.group(1)), "b": int(m.group(2))} if m else None


class Add(_Arithmetic):
    name = "add"
    symbol = "+"

    def solve(self, instance):
        return instance["a"] + instance["b"]


class Sub(_Arithmetic):
    name = "sub"
    symbol = "-"

    def solve(self, instance):
        # Signed a - b: the pipeline we replace stored |a - b|, which is wrong whenever b > a.
        return instance["a"] - instance["b"]


class Mul(_Arithmetic):
    name = "mul"
    symbol = "*"

    def solve(self, instance):
        return instance["a"] * instance["b"]


class Lcs(Kind):
    name = "lcs"
    alphabet = "abcdefghij"

    def generate(self, rng, digit):
        n = max(1, digit)
        return {
            "s": "".join(rng.choice(self.alphabet) for _ in range(n)),
            "t": "".join(rng.choice(self.alphabet) for _ in range(n)),
        }

    def question(self, instance):
        return (
            "Compute the length of the Longest Common Subsequence (LCS) between strings:\n"
            f'S = "{instance["s"]}"\nT = "{instance["t"]}"'
        )

    def parse_question(self, text):
        s = re.search(r'S\s*=\s*"([^"]*)"', text)
        t = re.search(r'T\s*=\s*"([^"]*)"', text)
        return {"s": s.group(1), "t": t.group(1)} if s and t else None

    def solve(self, instance):
        s, t = instance["s"], instance["t"]
        prev = [0] * (len(t) + 1)
        for ch in s:
            row = [0]
            for j, other in enumerate(t):
                row.append(prev[j] + 1 if ch == other else max(prev[j + 1], row[j]))
            prev = row
        return prev[-1]


class Knap(Kind):
    name = "knap"

    def generate(self, rng, digit):
        n = max(1, digit)
        weights = [rng.randint(1, 30) for _ in range(n)]
        values = [rng.randint(1, 50) for _ in range(n)]
        capacity = rng.randint(max(1, sum(weights) // 4), max(1, sum(weights) // 2))
        return {"weights": weights, "values": values, "capacity": capacity}

    def question(self, instance):
        return (
            "0/1 Knapsack: Given item weights W and values V and capacity C, compute the maximum total value.\n"
            f"W = {instance['weights']}\nV = {instance['values']}\nC = {instance['capacity']}"
        )

    def parse_question(self, text):
        w = re.search(r"W\s*=\s*\[([^\]]*)\]", text)
        v = re.search(r"V\s*=\s*\[([^\]]*)\]", text)
        c = re.search(r"C\s*=\s*(\d+)", text)
        if not (w and v and c):
            return None
        ints = lambda s: [int(x) for x in s.split(",") if x.strip()]
        return {"weights": ints(w.group(1)), "values": ints(v.group(1)), "capacity": int(c.group(1))}

    def solve(self, instance):
        best = [0] * (instance["capacity"] + 1)
        for weight, value in zip(instance["weights"], instance["values"]):
            for cap in range(instance["capacity"], weight - 1, -1):
                best[cap] = max(best[cap], best[cap - weight] + value)
        return best[-1]


class Rod(Kind):
    name = "rod"

    def generate(self, rng, digit):
        n = max(1, digit)
        return {"prices": [rng.randint(1, 10 * (i + 1)) for i in range(n)], "length": n}

    def question(self, instance):
        return (
            "Rod cutting: Given a rod of length N and price list P[1..N], compute the maximum obtainable revenue.\n"
            f"N = {instance['length']}\nP = {instance['prices']}"
        )

    def parse_question(self, text):
        n = re.search(r"N\s*=\s*(\d+)", text)
        p = re.search(r"P\s*=\s*\[([^\]]*)\]", text)
        if not (n and p):
            return None
        return {"length": int(n.group(1)), "prices": [int(x) for x in p.group(1).split(",") if x.strip()]}

    def solve(self, instance):
        prices, n = instance["prices"], instance["length"]
        best = [0] * (n + 1)
        for length in range(1, n + 1):
            best[length] = max(prices[i] + best[length - i - 1] for i in range(min(length, len(prices))))
        return best[n]
