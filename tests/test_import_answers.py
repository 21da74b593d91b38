"""Reading legacy answers: the importers read every reply with the collector's own reader."""

from __future__ import annotations

import json

import pytest

from evalhouse.ingest.answers import EXTRACTOR_VERSION, extract_answer, normalize
from evalhouse.ingest.answers.text import _MISSING, _answer_in_broken_json, _answer_key, json_objects
from evalhouse.ingest.importers.answers import read_answer, read_answers

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


def _scan_everything(text: str):
    """The reader without its shortcuts: every object read, then the first with an answer."""
    if text is None or not text.strip():
        return (False, "empty_response", None)
    for obj in json_objects(text):
        answer = _answer_key(obj)
        if answer is not _MISSING:
            return (True, None, answer)
    return None


def test_shortcuts_agree_with_reading_every_object():
    """The whole-object shortcut and the first-answer stop give what reading every object gives, on every
    shared reply (where the full scan finds an answer at all)."""
    for text in _texts():
        full = _scan_everything(_drop_thinking(text))
        got = extract_answer(text)
        if full is not None and full[0]:
            assert got.ok and got.answer == full[2], text[:200]
        elif full is not None:
            assert (got.ok, got.error) == full[:2], text[:200]


def _drop_thinking(text: str) -> str:
    from evalhouse.ingest.answers.text import _THINKING

    return _THINKING.sub("", text) if text else text


def test_importers_read_replies_as_the_collector_does():
    """Every shared reply, read by the importer, is extract_answer + the kind's normalize, with the
    reader's version; a reply repeated is read once and given to each row."""
    texts = _texts()
    rows = [(aid, "add", "reply", text) for aid, text in enumerate(texts)] + [(len(texts), "add", "reply", texts[2])]
    table = read_answers(rows).to_pylist()
    assert len(table) == len(texts) + 1
    for row, (_, _, _, text) in zip(table, rows):
        expected = extract_answer(text)
        want = normalize("add", expected.answer) if expected.ok else (None, None, expected.error)
        assert (row["parsed_answer"], row["raw_answer"], row["parse_error"]) == want, text[:200]
        assert row["extractor_version"] == EXTRACTOR_VERSION
    assert _answer_in_broken_json('{broken "answer": 3') == 3


@pytest.mark.parametrize(
    "kind, mode, payload, expected",
    [
        ("add", "reply", '{"answer": "3,922,018"}', ("3922018", "3,922,018", None, EXTRACTOR_VERSION)),
        ("sub", "reply", '{"answer": -12.0}', ("-12", "-12.0", None, EXTRACTOR_VERSION)),
        ("add", "reply", '{"answer": "no idea"}', (None, "no idea", "unreadable_answer", EXTRACTOR_VERSION)),
        ("add", "reply", "no json at all", (None, None, "no_json_object", EXTRACTOR_VERSION)),
        ("add", "value", "-1", (None, "-1", "legacy_sentinel", None)),
        ("add", "value", "", (None, None, "empty_response", None)),
        ("add", "repr", "352", ("352", "352", None, None)),
        ("add", "repr", "[352]", ("352", "[352]", None, None)),
        ("gsm8k", "reply", '{"answer": "18"}', ("18", "18", None, EXTRACTOR_VERSION)),
        (
            "gsm8k",
            "reply",
            '{"answer": {"Path": [0, 3]}}',
            ('{"Path":[0,3]}', '{"Path":[0,3]}', None, EXTRACTOR_VERSION),
        ),
        ("spp", "reply", '{"answer": {"Path": [0, 3]}}', ("[0,3]", '{"Path":[0,3]}', None, EXTRACTOR_VERSION)),
    ],
)
def test_answers_normalise_through_the_kind(kind, mode, payload, expected):
    """Answers go through the kind's `normalize`; kinds the warehouse cannot grade keep the answer as given;
    the per-run CSVs' `-1` is their parse-failure sentinel, not an answer; only replies carry the reader's
    version (values were read by the legacy pipeline)."""
    assert read_answer(kind, mode, payload) == expected
