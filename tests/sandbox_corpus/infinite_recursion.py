"""Recursion without end, with Python's recursion guard lifted, until the C stack overflows."""

import sys

T = {}  # the corpus runner puts the targets here

sys.setrecursionlimit(1 << 30)


def down(n):
    return down(n + 1) + 1


down(0)
