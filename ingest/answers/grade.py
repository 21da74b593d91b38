"""Turning what was read into an answer and a verdict: the kind's normalisation and check.

The warehouse grades comparison kinds itself, from the problem's gold; what is stored here is the
normalised answer (a canonical string, so SQL compares strings and never parses model text) and, for
every kind, the checker's verdict, which is the only verdict for kinds with many right answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evalhouse.ingest.problems import KINDS, canonical, get_kind

from .text import _MISSING, _answer_key, extract_answer, literal, parse_printed


@dataclass(frozen=True)
class Graded:
    parsed_answer: str | None
    parse_error: str | None
    verdict: str | None  # correct | wrong | parse_error; None when read without an instance to check
    verdict_reason: str | None


_EXTRACTION_REASONS = {
    "empty_response": "the reply is empty",
    "no_json_object": "no JSON object in the reply",
    "no_answer_field": 'the JSON object has no "answer" field',
}


def grade_value(kind: str, instance: dict[str, Any] | None, answer: Any) -> Graded:
    """Grade an answer value already read from the response (no instance: normalise only)."""
    k = get_kind(kind)
    normalized = k.normalize(answer)
    if normalized is None:
        return Graded(None, "unreadable_answer", "parse_error", f"answer {str(answer)[:80]!r} is not {k.answer_hint}")
    if instance is None:
        return Graded(normalized, None, None, None)
    verdict = k.check(instance, answer)
    return Graded(normalized, None, "correct" if verdict.correct else "wrong", verdict.reason)


def grade_reply(
    kind: str,
    instance: dict[str, Any] | None,
    text: str | None,
    finish_reason: str | None = None,
    reasoning: str | None = None,
) -> Graded:
    """Grade a model's reply: read its JSON `answer`, then check it. When no answer can be read, say
    how the model stopped if that explains it (cut off by max_tokens, stopped for another reason)."""
    extraction = extract_answer(text)
    if extraction.ok:
        return grade_value(kind, instance, extraction.answer)
    error = extraction.error or "parse_error"
    if finish_reason == "length":
        if text:
            return Graded(None, "truncated", "parse_error", "answer cut off by max_tokens")
        why = "max_tokens spent before any answer" + (" (on reasoning)" if reasoning else "")
        return Graded(None, "truncated", "parse_error", why)
    reason = _EXTRACTION_REASONS.get(error, error)
    if finish_reason not in ("stop", None):
        reason = f"{reason} (finish_reason {finish_reason})"
    return Graded(None, error, "parse_error", reason)


def grade_printed(kind: str, instance: dict[str, Any] | None, stdout: str) -> Graded:
    """Grade what a program printed (the code arm): the value on its last non-empty line."""
    value = parse_printed(stdout)
    if value is None:
        return Graded(None, "no_output", "parse_error", "program printed nothing")
    if isinstance(value, dict):  # a program that printed {"answer": …} like a reply: the answer is inside
        answer = _answer_key(value)
        value = value if answer is _MISSING else answer
    return grade_value(kind, instance, value)


def normalize(kind: str, value: Any, from_repr: bool = False) -> tuple[str | None, str | None, str | None]:
    """(parsed_answer, raw_answer, parse_error) of a value another tool already read from a reply.

    `from_repr`: the value is the text of a Python repr (what executed code returned) and is read as a
    literal when the kind cannot take it as text. Kinds evalhouse does not know keep the answer as
    given (strings stripped, other values as compact JSON): it is shown, and graded with the source's
    verdict.
    """
    raw = _text(value)
    k = KINDS.get(kind)
    if k is None:
        return (raw, raw, None) if raw not in (None, "") else (None, raw, "empty_response")
    parsed = k.normalize(value)
    if parsed is None and from_repr and isinstance(value, str):
        read = literal(value)
        parsed = k.normalize(value if read is _MISSING else read)
    return (parsed, raw, None) if parsed is not None else (None, raw, "unreadable_answer")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip()
    try:
        return canonical(value)
    except (TypeError, ValueError):
        return repr(value)
