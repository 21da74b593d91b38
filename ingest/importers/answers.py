"""Reading the answer out of each legacy response, the same way the collector reads its own.

Most replies are one JSON object, possibly fenced or wrapped in a sentence: DuckDB takes the span
from the first `{` to the last `}`, and when that span is a JSON object it looks up the `answer` key
there (case-insensitive, as `extract.extract_answer` does). Only replies where that span is not a
valid object (several objects, a truncated one, single quotes) are read in Python, the way
`extract_answer` reads them. The answer value is then normalised by the kind's own `normalize`, once per distinct
(kind, answer) pair rather than once per response.
"""

from __future__ import annotations

import ast
import json
import warnings
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from evalhouse.ingest.extract import (
    _FENCE,
    _MISSING,
    _THINKING,
    Extraction,
    _answer_in_broken_json,
    _answer_key,
    _load,
    object_spans,
)
from evalhouse.ingest.problems import KINDS, canonical

from .records import REPLY, REPR, VALUE

SENTINELS = {"-1": "legacy_sentinel"}  # what the Sept pipeline wrote when it could not parse an answer
# The spellings of the answer key tried by path; any other spelling `extract_answer` accepts
# ("Final_answer", " answer "), and an `answer:` it could read out of broken JSON, leave the reply
# to Python: ANSWER_KEY_TEXT finds them (a superset of `extract._ANSWER_KEY`).
ANSWER_PATHS = ["Answer", "answer", "ANSWER", "final_answer", "Final_Answer", "FINAL_ANSWER"]
ANSWER_KEY_TEXT = r"""(?i)answer\s*["']?\s*[:=]"""
THINKING_TEXT = r"(?i)<(think|thinking|reasoning)>"


def reply_answers_sql(source: str) -> str:
    """Select over `source` (aid, kind, text): answer_json, answer_error, and needs_python.

    DuckDB settles what `extract_answer` would certainly conclude: a blank reply; one with no `{`
    at all; one whose span from the first `{` to the last `}` is a JSON object (a valid span starts
    with `{`, so it is an object) holding one spelling of the answer key, or none and nothing that
    looks like an answer elsewhere. Python reads the rest (spans that are not JSON, reasoning tags,
    unusual keys, answers in broken JSON); their text is kept in the result (`text`, null elsewhere).
    """
    paths = ", ".join(f"'$.\"{p}\"'" for p in ANSWER_PATHS)
    key = ANSWER_KEY_TEXT.replace("'", "''")
    blank = "coalesce(regexp_full_match(text, '\\s*'), true)"
    return f"""
    with spans as (
        select aid, kind, text, {blank} as blank, regexp_extract(text, '(?s)\\{{.*\\}}') as span,
               regexp_matches(text, '{THINKING_TEXT}') as thinking
        from {source}
    ),
    objects as (
        select *, coalesce(not blank and not thinking and span <> '' and json_valid(span), false) as is_object
        from spans
    ),
    keyed as (
        select *,
            case when is_object then list_filter(json_extract(span, [{paths}]), x -> x is not null) end as found
        from objects
    ),
    judged as (
        select *,
            case
                when blank then 'empty_response'
                when strpos(text, '{{') = 0 then 'no_json_object'
                when is_object and len(found) = 0 and not regexp_matches(text, '{key}') then 'no_answer_field'
            end as answer_error
        from keyed
    )
    select
        aid, kind,
        case when answer_error is null and len(found) = 1 then found[1] end as answer_json,
        answer_error,
        answer_error is null and not coalesce(len(found) = 1, false) as needs_python,
        case when answer_error is null and not coalesce(len(found) = 1, false) then text end as text
    from judged
    """


def python_replies(rows: Iterable[tuple[int, str, str]]) -> pa.Table:
    """(aid, kind, text) of replies DuckDB could not settle, read as `extract_answer` reads them.

    Each distinct (kind, text) is read once: a reply repeated across copies of a run costs one read."""
    aids, parsed, raw, errors = [], [], [], []
    read: dict[tuple[str, str], tuple] = {}
    for aid, kind, text in rows:
        answer = read.get((kind, text))
        if answer is None:
            with warnings.catch_warnings():  # literal_eval of model text warns on its backslashes
                warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
                extraction = extract(text)
            answer = normalize(kind, extraction.answer) if extraction.ok else (None, None, extraction.error)
            read[(kind, text)] = answer
        aids.append(aid)
        parsed.append(answer[0])
        raw.append(answer[1])
        errors.append(answer[2])
    return pa.table(
        {
            "aid": pa.array(aids, pa.int64()),
            "parsed_answer": pa.array(parsed, pa.string()),
            "raw_answer": pa.array(raw, pa.string()),
            "parse_error": pa.array(errors, pa.string()),
        }
    )


def extract(text: str | None) -> Extraction:
    """`extract.extract_answer`, with its object scan done from brace to quote instead of per character.

    The replies that reach Python are long ones holding several objects or a cut-off one, where the
    per-character scan costs milliseconds each. Same steps (reasoning tags dropped, fenced blocks then
    the text, `extract._load`, the same key rule, then `answer:` in broken JSON); a test checks the
    two agree on every reply in the shared legacy data.
    """
    if text is None or not text.strip():
        return Extraction(error="empty_response")
    text = _THINKING.sub("", text)
    found = None
    for source in [m.group(1) for m in _FENCE.finditer(text)] + [text]:
        for span in object_spans(source):
            value = _load(span)
            if isinstance(value, dict):
                answer = _answer_key(value)
                if answer is not _MISSING:
                    return Extraction(answer=answer, payload=value)
                if found is None:
                    found = value
    if "{" in text:
        answer = _answer_in_broken_json(text)
        if answer is not _MISSING:
            return Extraction(answer=answer)
    if found is None:
        return Extraction(error="no_json_object")
    return Extraction(error="no_answer_field", payload=found)


def read_payloads(rows: Iterable[tuple[str, str, str]]) -> pa.Table:
    """(kind, mode, payload) -> parsed_answer, raw_answer, parse_error, for each distinct triple."""
    out: dict[str, list] = {k: [] for k in ("kind", "mode", "payload", "parsed_answer", "raw_answer", "parse_error")}
    for kind, mode, payload in rows:
        parsed, raw, error = read_payload(kind, mode, payload)
        for key, value in zip(out, (kind, mode, payload, parsed, raw, error)):
            out[key].append(value)
    return pa.table({k: pa.array(v, pa.string()) for k, v in out.items()})


def read_payload(kind: str, mode: str, payload: str) -> tuple[str | None, str | None, str | None]:
    if mode == REPLY:
        return normalize(kind, json.loads(payload))
    if mode == VALUE:
        text = payload.strip()
        if not text:
            return None, None, "empty_response"
        if text in SENTINELS:
            return None, text, SENTINELS[text]
        return normalize(kind, text)
    if mode == REPR:
        text = payload.strip()
        if not text:
            return None, None, "no_output"
        return normalize(kind, text, literal=True)
    raise ValueError(f"unknown answer mode {mode!r}")


def normalize(kind: str, value: Any, literal: bool = False) -> tuple[str | None, str | None, str | None]:
    """(parsed_answer, raw_answer, parse_error) through the kind's `normalize`.

    Kinds the warehouse does not know keep the answer as given (strings stripped, other values as
    compact JSON): it is shown, but graded with the source's verdict.
    """
    raw = _text(value)
    k = KINDS.get(kind)
    if k is None:
        return (raw, raw, None) if raw not in (None, "") else (None, raw, "empty_response")
    parsed = k.normalize(value)
    if parsed is None and literal and isinstance(value, str):
        parsed = k.normalize(_literal(value))
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


def _literal(text: str) -> Any:
    """A Python repr read as a value (`([0, 2], 7)`, `{0: [1]}`), or the text itself."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
            return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return text
