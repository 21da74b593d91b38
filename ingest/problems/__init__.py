"""Problem kinds, their generators, exact solvers and checks."""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from .base import GENERATOR_VERSION, Kind, Problem, Verdict, canonical, problem_id, to_int
from .fine_grained import Add, Knap, Lcs, Mul, Rod, Sub

KINDS: dict[str, Kind] = {k.name: k for k in (Add(), Sub(), Mul(), Lcs(), Knap(), Rod())}


class UnknownKind(ValueError):
    pass


def get_kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise UnknownKind(f"unknown kind {name!r}; known kinds: {', '.join(sorted(KINDS))}") from None


def generate(kinds: Iterable[str], digits: Iterable[int], n: int, problem_seed: int = 0) -> Iterator[Problem]:
    """Every instance of a plan: `n` per kind and digit (per kind where the kind has no digit)."""
    digits = list(digits)
    for name in kinds:
        kind = get_kind(name)
        for digit in digits if kind.has_digit else [0]:
            for index in range(n):
                yield kind.make(digit, index, problem_seed)


__all__ = [
    "GENERATOR_VERSION",
    "KINDS",
    "Kind",
    "Problem",
    "UnknownKind",
    "Verdict",
    "canonical",
    "generate",
    "get_kind",
    "problem_id",
    "to_int",
]
