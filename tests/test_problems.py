"""Generators are deterministic, golds are exact, and no kind's check is impossible to pass."""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import random

import pytest

from evalhouse.ingest.problems import FAMILIES, KINDS, generate, get_kind, kinds_of, to_int

from .conftest import REPO

DIGITS = [2, 3, 5, 8, 12, 16, 20]


def every_instance(n: int = 2):
    """`n` instances of every kind at every digit 2-20 (kinds without a digit: every level)."""
    for name, kind in KINDS.items():
        if kind.has_digit:
            yield from generate([name], DIGITS, n)
        else:
            yield from generate([name], [0], 10 * n)


def test_same_inputs_same_instance_and_id():
    """(kind, digit, index, problem seed) fixes the instance and problem_id."""
    a = list(generate(["add", "lcs", "knap", "tsp", "dijkstra"], [2, 4], 3, problem_seed=7))
    b = list(generate(["add", "lcs", "knap", "tsp", "dijkstra"], [2, 4], 3, problem_seed=7))
    assert [(p.problem_id, p.instance) for p in a] == [(p.problem_id, p.instance) for p in b]
    c = list(generate(["add"], [2], 3, problem_seed=8))
    assert {p.problem_id for p in c}.isdisjoint({p.problem_id for p in a})


def test_generation_is_pinned_across_machines():
    """A digest of every kind's instances, ids, golds and questions is fixed: a change here changes every
    stored problem, so it must come with a new GENERATOR_VERSION."""
    digest = hashlib.sha256()
    for p in generate(list(KINDS), [2, 7], 2):
        digest.update(f"{p.problem_id}|{p.instance_json}|{p.gold_answer}|{p.question}\n".encode())
    assert digest.hexdigest() == "cc3ed165372a242170d8b2d34f1585ce082bd55bab9174f8bbd2b54e611e6284"


def test_problem_ids_are_unique():
    """Every instance of a plan has its own id."""
    problems = list(generate(sorted(KINDS), [2, 4, 6], 10))
    assert len({p.problem_id for p in problems}) == len(problems)


def test_the_plan_kinds_are_all_there():
    """The plan's 9 fine-grained and 9 NP-hard kinds exist, and at least 12 CLRS-30 algorithms."""
    assert kinds_of("fine_grained") == [
        "add",
        "sub",
        "mul",
        "lcs",
        "knap",
        "rod",
        "ilp_assign",
        "ilp_prod",
        "ilp_partition",
    ]
    assert kinds_of("np_hard") == ["spp", "tsp", "tsp_d", "msp", "ksp", "gcp", "gcp_d", "bsp", "edp"]
    clrs = set(kinds_of("clrs"))
    assert len(clrs) >= 12
    for needed in (
        "insertion_sort",
        "binary_search",
        "bfs",
        "dfs",
        "dijkstra",
        "mst_kruskal",
        "matrix_chain_order",
        "kmp_matcher",
    ):
        assert needed in clrs
    assert {k.family for k in KINDS.values()} == set(FAMILIES)


def test_kind_families_seed_matches_the_registry():
    """seeds/kind_families.csv lists every kind with the family, digit axis and verifier flag the code uses."""
    with open(REPO / "seeds" / "kind_families.csv", newline="") as fh:
        rows = {r["kind"]: r for r in csv.DictReader(fh)}
    for name, kind in KINDS.items():
        row = rows[name]
        assert (row["family"], row["has_digit"], row["needs_verifier"]) == (
            kind.family,
            str(kind.has_digit).lower(),
            str(kind.needs_verifier).lower(),
        ), name
    assert {n for n, r in rows.items() if r["family"] != "other"} == set(KINDS)


def test_every_kind_accepts_its_own_solution():
    """Each kind's reference answer is judged correct, as a value, after a JSON round trip, as the JSON text
    a program prints, and as a Python repr; comparison kinds normalise it to exactly the gold."""
    for p in every_instance():
        kind = get_kind(p.kind)
        instance = json.loads(p.instance_json)
        right = kind.solve(instance)
        for form in (right, json.loads(json.dumps(right)), json.dumps(right), repr(right)):
            verdict = kind.check(instance, form)
            assert verdict.correct, (p.kind, p.digit, form, verdict.reason)
        if not kind.needs_verifier:
            assert kind.normalize(right) == p.gold_answer, p.kind


def test_wrong_answers_are_judged_wrong():
    """The synthetic endpoint's wrong answers are wrong for every kind (so simulated accuracy is real)."""
    rng = random.Random(0)
    for p in every_instance(1):
        kind = get_kind(p.kind)
        wrong = kind.wrong_answer(p.instance, rng)
        assert not kind.check(p.instance, json.loads(json.dumps(wrong))).correct, (p.kind, wrong)


def test_instances_are_plain_json():
    """instance_json round-trips, so a stored instance regrades exactly like the generated one."""
    for p in every_instance(1):
        assert json.loads(p.instance_json) == p.instance
        assert p.gold_answer == get_kind(p.kind).gold(json.loads(p.instance_json))


def test_contract_instance_shapes():
    """add/sub/mul/lcs/knap/rod keep the instance_json shapes the contract fixes."""
    shapes = {
        "add": {"a", "b"},
        "sub": {"a", "b"},
        "mul": {"a", "b"},
        "lcs": {"s", "t"},
        "knap": {"weights", "values", "capacity"},
        "rod": {"prices", "length"},
    }
    for name, keys in shapes.items():
        for p in generate([name], [2, 20], 2):
            assert set(p.instance) == keys


def test_sub_is_signed_and_big_products_are_exact():
    """sub is a - b (negative when b > a); 20-digit products never pass through a float."""
    sub = get_kind("sub")
    assert sub.gold({"a": 13804733, "b": 17590196}) == "-3785463"
    mul = get_kind("mul")
    a, b = 98765432109876543210, 12345678901234567890
    assert mul.gold({"a": a, "b": b}) == str(a * b)
    assert get_kind("add").gold({"a": 9119335464439583, "b": 8774199854573939}) == "17893535319013522"
    assert {len(str(p.instance["a"])) for p in generate(["mul"], [20], 5)} == {20}


def test_the_second_operand_varies():
    """Unlike the legacy generator, both operands change from instance to instance."""
    for name in ("add", "lcs"):
        problems = list(generate([name], [8], 20))
        key = "b" if name == "add" else "t"
        assert len({json.dumps(p.instance[key]) for p in problems}) == 20


def test_no_digit_kinds_cover_every_level():
    """NP-hard kinds have digit 0 and keep their level (1-10, cycling with the index) in instance_json."""
    for name in kinds_of("np_hard"):
        problems = list(generate([name], [2, 4], 20))
        assert {p.digit for p in problems} == {0}
        assert sorted({p.instance["level"] for p in problems}) == list(range(1, 11))
        assert len(problems) == 20


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


@pytest.mark.parametrize("digit", [2, 3, 4, 6, 8, 10])
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


def test_arithmetic_and_big_number_golds_match_python():
    """add, sub and mul golds equal Python's exact integer arithmetic at every digit 2-20."""
    ops = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b}
    for p in generate(list(ops), range(2, 21), 10):
        assert p.gold_answer == str(ops[p.kind](p.instance["a"], p.instance["b"]))


def test_fine_grained_questions_parse_back():
    """The question text alone gives back the instance (for regrading legacy files)."""
    for p in generate(kinds_of("fine_grained"), [2, 8, 16], 5):
        assert get_kind(p.kind).parse_question(p.question) == p.instance


def test_legacy_ilp_question_parses():
    """A question copied from a legacy res.jsonl row parses into the instance its gold was computed from."""
    text = (
        "Assignment problem: Given an n×n cost matrix C, assign each worker to one task minimizing the total cost. "
        "Return the minimum total cost as an integer. \nC = [[9, 5], [17, 8]]"
    )
    kind = get_kind("ilp_assign")
    assert kind.gold(kind.parse_question(text)) == "17"


@pytest.mark.parametrize(
    "raw, value",
    [
        (44, 44),
        ("44", 44),
        ("1,234", 1234),
        ("1234.0", 1234),
        (" -12 ", -12),
        ([7], 7),
        (3.5, None),
        ("x", None),
        (True, None),
        (10**30, 10**30),
        ("123456789012345678901234567890", 123456789012345678901234567890),
    ],
)
def test_integer_answers_read_exactly(raw, value):
    """Integers are read without a float in between; non-integers are unreadable, not rounded."""
    assert to_int(raw) == value


@pytest.mark.parametrize(
    "kind, answer, gold",
    [
        ("insertion_sort", (1, 2, 3), "[1,2,3]"),
        ("insertion_sort", "[1 2 3]", "[1,2,3]"),
        ("insertion_sort", " [1, 2,\n 3] ", "[1,2,3]"),
        ("insertion_sort", [1.0, 2, 3.0], "[1,2,3]"),
        ("bfs", {"0": 0, "1": 1, "2": 1}, "[0,1,1]"),
        ("bridges", [[3, 1], (0, 2)], "[[0,2],[1,3]]"),
        ("strongly_connected_components", [[4, 2], [0], [1, 3]], "[[0],[1,3],[2,4]]"),
        ("articulation_points", {2, 0}, "[0,2]"),
        ("floyd_warshall", "[[0, 3], [2, 0]]", "[[0,3],[2,0]]"),
        ("segments_intersect", "True", "true"),
        ("segments_intersect", "no", "false"),
        ("bsp", {"position": 3}, "3"),
    ],
)
def test_clrs_and_list_answers_normalise_tolerantly(kind, answer, gold):
    """Whitespace, tuples, numpy-style text, integral floats, index-keyed dicts and any order of sets all
    normalise to the gold's canonical string."""
    assert get_kind(kind).normalize(answer) == gold


@pytest.mark.parametrize(
    "kind, answer",
    [
        ("insertion_sort", [1, 2.5]),
        ("insertion_sort", "sorted!"),
        ("bfs", {"0": 0, "2": 1}),
        ("bridges", [[1, 2, 3]]),
        ("add", "forty-four"),
        ("segments_intersect", "maybe"),
    ],
)
def test_unreadable_answers_normalise_to_none(kind, answer):
    """An answer that cannot be read as the kind's type has no normal form (it becomes a parse error)."""
    assert get_kind(kind).normalize(answer) is None
