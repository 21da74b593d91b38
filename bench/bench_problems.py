"""Generating the plan's suite: 9 fine-grained kinds × digits 2–20 (step 2) × 30, all 30 CLRS kinds at
the same digits × 30, and 9 NP-hard kinds × 30, with golds. Baseline: the six skeleton kinds alone.

    .venv/bin/python bench/bench_problems.py
"""

from __future__ import annotations

import time

from evalhouse.ingest.problems import expand_kinds, generate

DIGITS = list(range(2, 21, 2))


def timed(kinds: list[str]) -> tuple[int, float]:
    start = time.perf_counter()
    count = sum(1 for _ in generate(kinds, DIGITS, 30))
    return count, time.perf_counter() - start


def main() -> None:
    base_n, base_s = timed(["add", "sub", "mul", "lcs", "knap", "rod"])
    print(
        f"baseline (add sub mul lcs knap rod)  {base_n:6d} problems  {base_s:6.2f} s  {base_n / base_s:8.0f} problems/s"
    )
    total_n, total_s = 0, 0.0
    for family in ("fine_grained", "clrs", "np_hard"):
        n, s = timed(expand_kinds([family]))
        total_n, total_s = total_n + n, total_s + s
        print(
            f"{family:36} {n:6d} problems  {s:6.2f} s  {n / s:8.0f} problems/s   {s / n / (base_s / base_n):6.1f}x baseline cost per problem"
        )
    print(f"{'whole plan':36} {total_n:6d} problems  {total_s:6.2f} s")


if __name__ == "__main__":
    main()
