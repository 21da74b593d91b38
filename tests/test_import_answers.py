"""Reading legacy answers: DuckDB's share and Python's share together read every reply as extract_answer does."""

from __future__ import annotations

import json
import warnings

import duckdb
import pyarrow as pa
import pytest

from evalhouse.ingest.extract import extract_answer
from evalhouse.ingest.importers.answers import extract, normalize, python_replies, read_payload, reply_answers_sql

from .conftest import SHARED

TRICKY = [
    "",
    "   \n",
    '{"Answer": "18", "simulation": "..."}',
    '```json\n{"answer": 44}\n```',
    'Here it is:\n```json\n{\n  "Answer": "3,922,018",\n  "code": "```python\\nprint(1)\\n```"\n}\n```',
    "The answer is 12, no JSON here.",
    '{"Path": [0, 2, 3], "TotalDistance": "6"}',
    '{"Answer": "1", "answer": "2"}',
    '{"Final_answer": 7}',
    "{'answer': 5, 'simulation': 'single quotes'}",
    '<think>{"answer": 1}</think>{"answer": 2}',
    '{"Answer": "34", "simulation": "cut off in the middle of',
    '{"a": 1} and then {"Answer": 9}',
    '{"Answer": 12,}',
    '{"Answer": "line\nbreak"}',
    '{"Answer": [1, 2, 3]}',
    '{"Answer": 17893535319013522123456789}',
    '{broken "answer": 3',
    "answer: 42 {",
]


def _texts() -> list[str]:
    texts = list(TRICKY)
    for path in sorted((SHARED / "realdata" / "toolproj").rglob("res.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            texts += [row[f"{arm}_answer"] for arm in ("nl", "sim", "controlsim")]
    return texts


def _python(text: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return extract_answer(text)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_fast_extract_agrees_with_extract_answer():
    """`answers.extract` (brace-to-quote scan) returns what `extract_answer` returns, on every shared reply."""
    for text in _texts():
        a, b = extract(text), _python(text)
        assert (a.ok, a.error) == (b.ok, b.error), text[:200]
        if a.ok:
            assert a.answer == b.answer, text[:200]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_duckdb_and_python_shares_read_replies_as_extract_answer_does():
    """Whatever DuckDB settles, and whatever it hands to Python, ends as extract_answer + normalize."""
    texts = _texts()
    table = pa.table({"aid": list(range(len(texts))), "kind": ["add"] * len(texts), "text": texts})
    con = duckdb.connect()
    con.register("replies", table)
    rows = con.execute(reply_answers_sql("replies") + " order by aid").fetchall()
    settled = {aid: (answer_json, error) for aid, _, answer_json, error, needs_python, _ in rows if not needs_python}
    fallback = python_replies((aid, "add", text) for aid, _, _, _, needs_python, text in rows if needs_python)
    by_python = {r["aid"]: (r["parsed_answer"], r["parse_error"]) for r in fallback.to_pylist()}
    assert len(settled) > len(texts) // 2 and by_python
    for aid, text in enumerate(texts):
        expected = _python(text)
        want = normalize("add", expected.answer)[::2] if expected.ok else (None, expected.error)
        if aid in by_python:
            got = by_python[aid]
        else:
            answer_json, error = settled[aid]
            got = read_payload("add", "reply", answer_json)[::2] if answer_json is not None else (None, error)
        assert got == want, text[:200]


@pytest.mark.parametrize(
    "kind, mode, payload, expected",
    [
        ("add", "reply", '"3,922,018"', ("3922018", "3,922,018", None)),
        ("sub", "reply", "-12.0", ("-12", "-12.0", None)),
        ("add", "reply", '"no idea"', (None, "no idea", "unreadable_answer")),
        ("add", "value", "-1", (None, "-1", "legacy_sentinel")),
        ("add", "value", "", (None, None, "empty_response")),
        ("add", "repr", "352", ("352", "352", None)),
        ("add", "repr", "[352]", ("352", "[352]", None)),
        ("gsm8k", "reply", '"18"', ("18", "18", None)),
        ("gsm8k", "reply", '{"Path": [0, 3]}', ('{"Path":[0,3]}', '{"Path":[0,3]}', None)),
        ("spp", "reply", '{"Path": [0, 3]}', ("[0,3]", '{"Path":[0,3]}', None)),
    ],
)
def test_payloads_normalise_through_the_kind(kind, mode, payload, expected):
    """Answers go through the kind's `normalize`; kinds the warehouse cannot grade keep the answer as given;
    the per-run CSVs' `-1` is their parse-failure sentinel, not an answer."""
    assert read_payload(kind, mode, payload) == expected
