"""Grading a reply: correct, wrong (with the verifier's reason) and parse errors are three different things."""

from __future__ import annotations

import json

from evalhouse.ingest.answers import grade_reply, grade_value
from evalhouse.ingest.problems import KINDS, generate, get_kind


def test_comparison_kind_stores_the_canonical_answer():
    """A right answer in any spelling is stored as exactly the gold string the warehouse compares."""
    p = next(generate(["mul"], [12], 1))
    spelled = f"{int(p.gold_answer):,}"
    graded = grade_reply("mul", p.instance, f'Result:\n```json\n{{"reasoning": "long", "answer": "{spelled}"}}\n```')
    assert (graded.verdict, graded.parsed_answer, graded.parse_error) == ("correct", p.gold_answer, None)


def test_wrong_answer_is_wrong_not_a_parse_error():
    """A readable but wrong answer is `wrong`, keeps its normalised value, and says what was expected."""
    graded = grade_value("sub", {"a": 3, "b": 10}, 7)
    assert graded.verdict == "wrong" and graded.parsed_answer == "7" and graded.parse_error is None
    assert graded.verdict_reason == "wrong_value: expected -7, got 7"


def test_parse_errors_say_why():
    """No reply, no JSON, no answer field and an answer of the wrong type are parse errors with reasons."""
    inst = {"a": 1, "b": 2}
    cases = {
        "": ("empty_response", "the reply is empty"),
        "It is 3.": ("no_json_object", "no JSON object in the reply"),
        '{"result": 3}': ("no_answer_field", 'the JSON object has no "answer" field'),
    }
    for text, (error, reason) in cases.items():
        graded = grade_reply("add", inst, text)
        assert (graded.verdict, graded.parse_error, graded.verdict_reason) == ("parse_error", error, reason)
    graded = grade_reply("add", inst, '{"answer": "three"}')
    assert (graded.verdict, graded.parse_error) == ("parse_error", "unreadable_answer")
    assert "is not an integer" in graded.verdict_reason


def test_verifier_kind_verdict_and_record():
    """For a verifier kind the verdict comes from the checker and the stored answer is a canonical record."""
    p = next(generate(["tsp"], [0], 3))
    tour = get_kind("tsp").solve(p.instance)
    graded = grade_reply("tsp", p.instance, f"{{'answer': {tuple(reversed(tour))!r}}}")
    assert graded.verdict == "correct" and graded.parsed_answer == str(list(reversed(tour))).replace(" ", "")
    bad = grade_value("tsp", p.instance, tour + tour[:1] + [tour[1]])
    assert bad.verdict == "wrong" and bad.verdict_reason.startswith("invalid:")


def test_every_kind_grades_its_own_solution_as_correct_through_text():
    """From the reply text a model would send, each kind's reference answer grades as correct."""
    for name, kind in KINDS.items():
        for p in generate([name], [4], 2):
            text = json.dumps({"reasoning": "...", "answer": kind.solve(p.instance)})
            graded = grade_reply(name, p.instance, text)
            assert graded.verdict == "correct", (name, graded)
