"""Reading the answer out of each legacy response, the same way the collector reads its own.

Most replies are one JSON object, possibly fenced or wrapped in a sentence: DuckDB takes the span
from the first `{` to the last `}`, and when that span is a JSON object it looks up the `answer` key
there (case-insensitive, as `extract.extract_answer` does). Only replies where that span is not a
valid object (several objects, a truncated one, single quotes) go through `extract_answer` in
Python. The answer value is then normalised by the kind's own `normalize`, once per distinct
(kind, answer) pair rather than once per response.
"""
from __future__ import annotations

import ast
import json
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from evalhouse.ingest.extract import extract_answer
from evalhouse.ingest.problems import KINDS, canonical

from .records import REPLY, REPR, VALUE

SENTINELS = {"-1": "legacy_sentinel"}  # what the Sept pipeline wrote when it could not parse an answer
ANSWER_KEY = "lower(trim(k)) in ('answer', 'final_answer')"


def reply_sql(text: str) -> dict[str, str]:
    """SQL expressions over a reply column: the answer as JSON text, the error, whether Python must look."""
    span = f"regexp_extract({text}, '(?s)\\{{.*\\}}')"
    return {
        "span": span,
        "blank": f"{text} is null or trim({text}, ' ' || chr(9) || chr(10) || chr(13)) = ''",
        "is_object": "case when span <> '' and json_valid(span) then json_type(span) = 'OBJECT' else false end",
        "answer_key": f"list_filter(json_keys(span), k -> {ANSWER_KEY})[1]",
    }


def reply_answers_sql(source: str) -> str:
    """Select over `source` (columns rid, text) adding answer_json, answer_error and needs_python."""
    e = reply_sql("text")
    return f"""
    with spans as (
        select rid, text, {e['blank']} as blank, case when not ({e['blank']}) then {e['span']} end as span
        from {source}
    ),
    objects as (
        select *, not blank and {e['is_object']} as is_object from spans
    ),
    keyed as (
        select *, case when is_object then {e['answer_key']} end as answer_key from objects
    )
    select
        rid,
        case when answer_key is not null
             then json_extract(span, '$."' || replace(answer_key, '"', '\\"') || '"') end as answer_json,
        case
            when blank then 'empty_response'
            when span = '' then 'no_json_object'
            when is_object and answer_key is null then 'no_answer_field'
        end as answer_error,
        not blank and span <> '' and not is_object as needs_python
    from keyed
    """


def python_replies(rows: Iterable[tuple[int, str, str]]) -> pa.Table:
    """(rid, kind, text) of replies DuckDB could not settle, read with `extract_answer`."""
    rids, parsed, raw, errors = [], [], [], []
    for rid, kind, text in rows:
        extraction = extract_answer(text)
        if extraction.ok:
            answer = normalize(kind, extraction.answer)
        else:
            answer = (None, None, extraction.error)
        rids.append(rid)
        parsed.append(answer[0])
        raw.append(answer[1])
        errors.append(answer[2])
    return pa.table({"rid": pa.array(rids, pa.int64()), "parsed_answer": pa.array(parsed, pa.string()),
                     "raw_answer": pa.array(raw, pa.string()), "parse_error": pa.array(errors, pa.string())})


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
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return text
