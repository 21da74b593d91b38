"""Generators are deterministic and golds are exact."""
from __future__ import annotations

import itertools

import pytest

from evalhouse.ingest.problems import KINDS, generate, get_kind, to_int


def test_same_inputs_same_instance_and_id():
    """(kind, digit, index, problem seed) fixes the instance and problem_id."""
    a = list(generate(["add", "lcs", "knap"], [2, 4], 3, problem_seed=7))
    b = list(generate(["add", "lcs", "knap"], [2, 4], 3, problem_seed=7))
    assert [(p.problem_id, p.instance) for p in a] == [(p.problem_id, p.instance) for p in b]
    c = list(generate(["add"], [2], 3, problem_seed=8))
    assert {p.problem_id for p in c}.isdisjoint({p.problem_id for p in a})


def test_problem_ids_are_unique():
    """Every instance of a plan has its own id."""
    problems = list(generate(sorted(KINDS), [2, 4, 6], 20))
    assert len({p.problem_id for p in problems}) == len(problems)


def test_sub_is_signed_and_big_products_are_exact():
    """sub is a - b (negative when b > a); 20-digit products never pass through a float."""
    sub = get_kind("sub")
    assert sub.gold({"a": 13804733, "b": 17590196}) == "-3785463"
    mul = get_kind("mul")
    a, b = 98765432109876543210, 12345678901234567890
    assert mul.gold({"a": a, "b": b}) == str(a * b)
    assert get_kind("add").gold({"a": 9119335464439583, "b": 8774199854573939}) == "17893535319013522"


def _lcs_brute(s: str, t: str) -> int:
    best = 0
    for r in range(len(s) + 1):
        for combo in itertools.combinations(s, r):
            it = iter(t)
            if all(ch in it for ch in combo):
                best = max(best, r)
    return best


def _knap_brute(w, v, c) -> int:
    best = 0
    for mask in range(1 << len(w)):
        weight = sum(w[i] for i in range(len(w)) if mask >> i & 1)
        if weight <= c:
            best = max(best, sum(v[i] for i in range(len(w)) if mask >> i & 1))
    return best


def _rod_brute(prices, n) -> int:
    if n == 0:
        return 0
    return max(prices[i] + _rod_brute(prices, n - i - 1) for i in range(n))


@pytest.mark.parametrize("digit", [2, 3, 4, 6, 8])
def test_dynamic_programs_match_brute_force(digit):
    """lcs, knap and rod solvers agree with exhaustive search on small instances."""
    for p in generate(["lcs", "knap", "rod"], [digit], 30):
        inst = p.instance
        if p.kind == "lcs":
            assert int(p.gold_answer) == _lcs_brute(inst["s"], inst["t"])
        elif p.kind == "knap":
            assert int(p.gold_answer) == _knap_brute(inst["weights"], inst["values"], inst["capacity"])
        else:
            assert int(p.gold_answer) == _rod_brute(inst["prices"], inst["length"])


def test_arithmetic_questions_parse_back():
    """The question text alone gives back the instance (for regrading legacy files)."""
    for p in generate(["add", "sub", "mul", "lcs", "knap", "rod"], [2, 8, 16], 5):
        assert get_kind(p.kind).parse_question(p.question) == p.instance


@pytest.mark.parametrize(
    "raw, value",
    [(44, 44), ("44", 44), ("1,234", 1234), ("1234.0", 1234), (" -12 ", -12), ([7], 7), (3.5, None), ("x", None), (True, None)],
)
def test_integer_answers_read_exactly(raw, value):
    assert to_int(raw) == value
