"""Problem kinds, their generators, exact solvers and checks.

Families: fine-grained arithmetic and integer programs (`fine_grained`, `ilp`), the NP-hard family
after NPHardEval (`np_hard`), and the CLRS-30 algorithms (`clrs`, `clrs_graphs`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from . import clrs, ilp, np_hard
from .base import GENERATOR_VERSION, Kind, Problem, Verdict, VerifiedKind, canonical, problem_id, to_int
from .fine_grained import Add, Knap, Lcs, Mul, Rod, Sub

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Add(),
        Sub(),
        Mul(),
        Lcs(),
        Knap(),
        Rod(),
        ilp.IlpAssign(),
        ilp.IlpProd(),
        ilp.IlpPartition(),
        *np_hard.KINDS,
        *clrs.KINDS,
    )
}
FAMILIES = ("fine_grained", "clrs", "np_hard")


class UnknownKind(ValueError):
    pass


def get_kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise UnknownKind(f"unknown kind {name!r}; known kinds: {', '.join(sorted(KINDS))}") from None


def kinds_of(family: str) -> list[str]:
    """The kinds of one family, in registry order."""
    return [name for name, kind in KINDS.items() if kind.family == family]


ALIASES = {"clrs30": "clrs", "fg": "fine_grained", "nphard": "np_hard"}


def expand_kinds(names: Iterable[str]) -> list[str]:
    """Kind names, with a family name (`fine_grained`, `clrs` or `clrs30`, `np_hard`) or `all` standing
    for its kinds; unknown names raise UnknownKind."""
    out: list[str] = []
    for name in names:
        family = ALIASES.get(name, name)
        found = list(KINDS) if name == "all" else kinds_of(family) if family in FAMILIES else [get_kind(name).name]
        out += [k for k in found if k not in out]
    return out


def generate(kinds: Iterable[str], digits: Iterable[int], n: int, problem_seed: int = 0) -> Iterator[Problem]:
    """Every instance of a plan: `n` per kind and digit (per kind where the kind has no digit)."""
    digits = list(digits)
    for name in expand_kinds(kinds):
        kind = get_kind(name)
        for digit in digits if kind.has_digit else [0]:
            for index in range(n):
                yield kind.make(digit, index, problem_seed)


__all__ = [
    "FAMILIES",
    "GENERATOR_VERSION",
    "KINDS",
    "Kind",
    "Problem",
    "UnknownKind",
    "Verdict",
    "VerifiedKind",
    "canonical",
    "expand_kinds",
    "generate",
    "get_kind",
    "kinds_of",
    "problem_id",
    "to_int",
]
