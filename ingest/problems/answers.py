"""Reading a model's answer value as the type a kind expects, tolerantly and exactly.

Answers arrive as JSON values, Python literals, or strings holding either ("[1, 2]", "(0, 2)",
"[1 2 3]" as numpy prints, "1,234"). Each reader returns the value in the kind's own type, or None
when the answer cannot be read as that type. Numbers never pass through a float unless they came as
one, and a float is accepted only when it is an exact integer.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from typing import Any

_NUMBERS = re.compile(r"^[\s\[\](),;+\-\d]*$")


def literal(text: str) -> Any:
    """A string that holds a JSON value or Python literal, parsed; the string itself otherwise."""
    stripped = text.strip()
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(stripped)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            pass
    return text


def read_int(answer: Any) -> int | None:
    """1234, "1234", "1,234", "1_234", "1234.0", 1234.0, "-12", [7]. Never through a float."""
    if isinstance(answer, bool):
        return None
    if isinstance(answer, int):
        return answer
    if isinstance(answer, float):
        return int(answer) if answer.is_integer() else None
    if isinstance(answer, (list, tuple)) and len(answer) == 1:
        return read_int(answer[0])
    if not isinstance(answer, str):
        return None
    text = answer.strip().replace(",", "").replace("_", "").replace(" ", "").replace("\u2212", "-")
    if text.startswith("+"):
        text = text[1:]
    if re.fullmatch(r"-?\d+\.0*", text):
        text = text.split(".")[0]
    sign = -1 if text.startswith("-") else 1
    digits = text[1:] if sign < 0 else text
    if not digits.isdigit():
        return None
    return sign * int(digits)


def read_bool(answer: Any) -> bool | None:
    if isinstance(answer, bool):
        return answer
    if isinstance(answer, int) and answer in (0, 1):
        return bool(answer)
    if isinstance(answer, str):
        word = answer.strip().strip(".").lower()
        if word in ("true", "yes", "y", "feasible", "possible"):
            return True
        if word in ("false", "no", "n", "infeasible", "impossible"):
            return False
    return None


def _sequence(answer: Any) -> list | None:
    """A list from a list, tuple, index-keyed dict, or a string holding one of those."""
    if isinstance(answer, str):
        parsed = literal(answer)
        if isinstance(parsed, str):
            if not _NUMBERS.match(parsed) or not re.search(r"\d", parsed):
                return None
            # numpy-style "[1 2 3]" or bare "1, 2, 3"
            return [int(tok) for tok in re.findall(r"-?\d+", parsed)]
        if isinstance(parsed, (int, float)) and not isinstance(parsed, bool):
            return None
        answer = parsed
    if isinstance(answer, (list, tuple)):
        return list(answer)
    if isinstance(answer, dict):
        keys = [read_int(k) for k in answer]
        if None in keys or sorted(keys) != list(range(len(keys))):
            return None
        return [value for _, value in sorted(zip(keys, answer.values()), key=lambda kv: kv[0])]
    return None


def read_list(answer: Any, item: Callable[[Any], Any]) -> list | None:
    """A list whose every element `item` can read."""
    seq = _sequence(answer)
    if seq is None:
        return None
    out = [item(x) for x in seq]
    return None if any(x is None for x in out) else out


def read_int_list(answer: Any) -> list[int] | None:
    return read_list(answer, read_int)


def read_int_matrix(answer: Any) -> list[list[int]] | None:
    return read_list(answer, read_int_list)


def read_int_set(answer: Any) -> list[int] | None:
    """An order-free collection of ints (duplicates ignored), as a sorted list."""
    if isinstance(answer, (set, frozenset)):
        answer = list(answer)
    values = read_int_list(answer)
    return None if values is None else sorted(set(values))


def read_edge_set(answer: Any) -> list[list[int]] | None:
    """Undirected edges in any order and orientation, as sorted [u, v] pairs with u < v."""
    pairs = read_int_matrix(answer)
    if pairs is None or any(len(p) != 2 for p in pairs):
        return None
    return [list(p) for p in sorted({(min(p), max(p)) for p in pairs})]


def read_partition(answer: Any) -> list[list[int]] | None:
    """Groups of ints in any order (each group and the groups sorted)."""
    groups = read_list(answer, read_int_set)
    return None if groups is None else sorted(groups)


def field(answer: Any, *names: str) -> Any:
    """The value of the first key matching one of `names` (case and `_`/space-insensitive), or None."""
    if isinstance(answer, str):
        answer = literal(answer)
    if not isinstance(answer, dict):
        return None
    wanted = [n.replace("_", "").lower() for n in names]
    for key, value in answer.items():
        if isinstance(key, str) and key.replace("_", "").replace(" ", "").lower() in wanted:
            return value
    return None


def read_colours(answer: Any) -> list | None:
    """Per-vertex colours (ints or names) from a list or a vertex-keyed dict, as first-use indices."""
    seq = _sequence(answer)
    if seq is None:
        return None
    labels: dict[Any, int] = {}
    out = []
    for colour in seq:
        key = read_int(colour)
        if key is None:
            if not isinstance(colour, str) or not colour.strip():
                return None
            key = colour.strip().upper()
        out.append(labels.setdefault(key, len(labels)))
    return out
