"""Answers are read from messy model text; what cannot be read is a parse error with a reason."""

from __future__ import annotations

import pytest

from evalhouse.ingest.answers import extract_answer, extract_code, parse_printed


@pytest.mark.parametrize(
    "text, answer",
    [
        ('{"answer": 44}', 44),
        ('Sure!\n```json\n{"reasoning": "27+17", "answer": "44"}\n```\nHope that helps.', "44"),
        ("{'answer': 44, 'reasoning': 'x',}", 44),
        ('{"Answer": "44", "simulation": "..."}', "44"),
        ('{"answer": [1, 2, 3],}', [1, 2, 3]),
        ("{'answer': (0, 2, 3), 'ok': True}", (0, 2, 3)),
        ('The JSON is {"reasoning": "a {brace} inside", "answer": 7} as requested', 7),
        ('{"answer": true, "note": null}', True),
        ('{"answer": [1, 2,], "reasoning": "trailing commas, twice",}', [1, 2]),
        ("{'answer': {'feasible': True, 'tour': [0, 2, 1]}}", {"feasible": True, "tour": [0, 2, 1]}),
        ("{answer: 12, reasoning: 'bare keys'}", 12),
        ('<think>first try {"answer": 1}</think>\nFinal: {"answer": 2}', 2),
        ('{"code": "print("unescaped quotes")\nd = {1: 2}", "simulation": "...", "answer": [3, 4]}', [3, 4]),
        ('```\n{"answer": "[0 1 2]"}\n```', "[0 1 2]"),
    ],
)
def test_extracts_answer(text, answer):
    """The answer is found through fences, prose, trailing commas, single quotes, reprs and broken code fields."""
    got = extract_answer(text)
    assert got.ok, got.error
    assert got.answer == answer


@pytest.mark.parametrize(
    "text, error",
    [
        ("", "empty_response"),
        ("   ", "empty_response"),
        (None, "empty_response"),
        ("the answer is 44", "no_json_object"),
        ('{"result": 44}', "no_answer_field"),
    ],
)
def test_unreadable_is_a_parse_error(text, error):
    """What cannot be read is an extraction error naming the reason, never a guessed answer."""
    assert extract_answer(text).error == error


def test_code_from_json_field_or_fence():
    """The sim answer's program comes from its `code` field (fence stripped) or its first Python fence."""
    assert extract_code('{"code": "print(1)", "answer": 1}') == "print(1)"
    assert extract_code('{"code": "```python\\nprint(2)\\n```", "answer": 2}') == "print(2)"
    assert extract_code('Here:\n```python\nprint(3)\n```\n{"answer": 3}') == "print(3)"
    assert extract_code('{"answer": 3}') is None
    broken = '{"code": "def f():\n    return "x"\nprint(f())", "simulation": "prints x", "answer": "x"}'
    assert extract_code(broken) == 'def f():\n    return "x"\nprint(f())'


def test_printed_value_is_last_line():
    """A program's answer is its last printed line, as JSON, a Python literal or `label: value`."""
    assert parse_printed("debug\n44\n") == 44
    assert parse_printed("[1, 2]\n") == [1, 2]
    assert parse_printed("(0, 'a')\n") == (0, "a")
    assert parse_printed("") is None
    assert parse_printed("true\n") is True
    assert parse_printed("{'feasible': False, 'tour': None}") == {"feasible": False, "tour": None}
    assert parse_printed("Answer: 42") == 42
