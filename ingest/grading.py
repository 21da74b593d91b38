"""Grading one response in Python, at the moment it is stored.

The warehouse regrades comparison kinds in SQL from the problem's gold; what is stored here is the
normalised answer (so SQL need not parse model text) and, for every kind, the checker's verdict, which
is the only verdict for kinds with many right answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .extract import extract_answer
from .problems import get_kind


@dataclass(frozen=True)
class Graded:
    parsed_answer: str | None
    parse_error: str | None
    verdict: str  # correct | wrong | parse_error
    verdict_reason: str


def grade_value(kind: str, instance: dict[str, Any], answer: Any) -> Graded:
    """Grade an answer value already read from the response."""
    k = get_kind(kind)
    normalized = k.normalize(answer)
    if normalized is None:
        return Graded(None, "unreadable_answer", "parse_error", f"answer {str(answer)[:80]!r} is not {k.answer_hint}")
    verdict = k.check(instance, answer)
    return Graded(normalized, None, "correct" if verdict.correct else "wrong", verdict.reason)


_EXTRACTION_REASONS = {
    "empty_response": "the reply is empty",
    "no_json_object": "no JSON object in the reply",
    "no_answer_field": 'the JSON object has no "answer" field',
}


def grade_text(kind: str, instance: dict[str, Any], text: str | None) -> Graded:
    """Grade a model's raw reply: extract the JSON `answer`, then check it."""
    extraction = extract_answer(text)
    if not extraction.ok:
        error = extraction.error or "parse_error"
        return Graded(None, error, "parse_error", _EXTRACTION_REASONS.get(error, error))
    return grade_value(kind, instance, extraction.answer)
