"""Reading an answer out of model text, before any kind-specific reading of its value.

Models wrap their JSON in fences, put prose around it, leave trailing commas, use single quotes or
answer with a Python repr. Extraction tolerates all of that; what it still cannot read is a
`parse_error` with a reason, which is different from a wrong answer and from an arm that never ran.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import dataclass
from typing import Any

_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*\s*\n(.*?)```", re.S)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_BARE_KEY = re.compile(r"([{,]\s*)([A-Za-z_][A-Za-z0-9_]*)\s*:")
_THINKING = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.S | re.I)
_ANSWER_KEY = re.compile(r"""["']?(?:final_)?answer["']?\s*[:=]\s*""", re.I)
_GROUPED_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?=\s*(?:[}\n]|$))")
_MISSING = object()


@dataclass(frozen=True)
class Extraction:
    """What was read from a response: the `answer` value, or why it could not be read."""

    answer: Any = None
    error: str | None = None
    payload: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


_SPECIAL = re.compile(r"""[{}"'\\]""")


def object_spans(text: str) -> list[str]:
    """Balanced `{...}` spans, outermost first, skipping braces inside strings.

    Only the characters that change the state are visited (a regex jumps between them): the importer
    runs this over millions of legacy replies."""
    spans, depth, start, quote, skip = [], 0, -1, "", -1
    for m in _SPECIAL.finditer(text):
        pos, ch = m.start(), m.group()
        if pos == skip:
            continue
        if quote:
            if ch == "\\":
                skip = pos + 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'" and depth > 0:
            quote = ch
        elif ch == "{":
            if depth == 0:
                start = pos
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                spans.append(text[start : pos + 1])
    return spans


def _load(candidate: str) -> Any:
    """Parse one object: JSON, then JSON without trailing commas, then a Python literal."""
    for attempt in (candidate, _TRAILING_COMMA.sub(r"\1", candidate)):
        try:
            return json.loads(attempt, strict=False)
        except ValueError:
            pass
    pythonish = _TRAILING_COMMA.sub(r"\1", candidate)
    jsonish = re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", re.sub(r"\bnull\b", "None", pythonish)))
    for attempt in (pythonish, jsonish, _BARE_KEY.sub(r'\1"\2":', jsonish)):
        value = literal(attempt)
        if value is not _MISSING:
            return value
    return _MISSING


def literal(text: str) -> Any:
    """A Python literal read from model text, or _MISSING. Model text is full of backslashes that
    Python would warn about as invalid escapes: those warnings say nothing about the answer."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", (DeprecationWarning, SyntaxWarning))
            return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return _MISSING


def json_objects(text: str) -> list[dict[str, Any]]:
    """Every dict that can be read from the text: fenced blocks first, then the bare text."""
    found: list[dict[str, Any]] = []
    sources = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for source in sources:
        for span in object_spans(source):
            value = _load(span)
            if isinstance(value, dict):
                found.append(value)
    return found


def _answer_key(obj: dict[str, Any]) -> Any:
    for key, value in obj.items():
        if isinstance(key, str) and key.strip().lower() in ("answer", "final_answer"):
            return value
    return _MISSING


def _value_at(text: str, start: int) -> Any:
    """The JSON or Python value that begins at `start`: a balanced bracket, a string, or a scalar."""
    rest = text[start:].lstrip()
    if not rest:
        return _MISSING
    if rest[0] in "[{(":
        depth, quote = 0, ""
        for i, ch in enumerate(rest):
            if quote:
                quote = "" if ch == quote and rest[i - 1] != "\\" else quote
            elif ch in "\"'":
                quote = ch
            elif ch in "[{(":
                depth += 1
            elif ch in "]})":
                depth -= 1
                if depth == 0:
                    return _load(rest[: i + 1])
        return _MISSING
    if rest[0] in "\"'":
        end = rest.find(rest[0], 1)
        return rest[1:end] if end > 0 else _MISSING
    grouped = _GROUPED_NUMBER.match(rest)  # "answer": 1,234} is one number written with digit groups
    if grouped:
        return int(grouped.group(0).replace(",", ""))
    scalar = re.match(r"[^,}\n]+", rest)
    return _load(scalar.group(0).strip()) if scalar else _MISSING


def _answer_in_broken_json(text: str) -> Any:
    """Last resort for an object that does not parse as a whole (say, a `code` field with raw quotes):
    read the value after the last `"answer":`."""
    matches = list(_ANSWER_KEY.finditer(text))
    for m in reversed(matches):
        value = _value_at(text, m.end())
        if value is not _MISSING:
            return value
    return _MISSING


def extract_answer(text: str | None) -> Extraction:
    """The `answer` field of the first JSON-like object that has one: fenced blocks first, then the
    text; else the value after the last `"answer":` in broken JSON.

    Objects are read one at a time and the first with an answer ends the search: long replies holding
    many objects (importers read millions) cost one object, not all of them."""
    if text is None or not text.strip():
        return Extraction(error="empty_response")
    whole = _whole_object(text)  # most replies are one JSON object: read it in C
    if whole is not None:
        answer = _answer_key(whole)
        if answer is not _MISSING:
            return Extraction(answer=answer, payload=whole)
    text = _THINKING.sub("", text)
    first = None
    for source in [m.group(1) for m in _FENCE.finditer(text)] + [text]:
        for span in object_spans(source):
            value = _load(span)
            if isinstance(value, dict):
                answer = _answer_key(value)
                if answer is not _MISSING:
                    return Extraction(answer=answer, payload=value)
                if first is None:
                    first = value
    if "{" in text:
        answer = _answer_in_broken_json(text)
        if answer is not _MISSING:
            return Extraction(answer=answer)
    if first is None:
        return Extraction(error="no_json_object")
    return Extraction(error="no_answer_field", payload=first)


def _whole_object(text: str) -> dict[str, Any] | None:
    """The reply as one JSON object, when it is exactly that (the scan below finds the same object)."""
    stripped = text.strip()
    if not (stripped.startswith("{") and stripped.endswith("}")):
        return None
    try:
        value = json.loads(stripped, strict=False)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def extract_code(text: str | None) -> str | None:
    """The program in a `sim` answer: its JSON `code` field, else the first Python fence."""
    if not text:
        return None
    for obj in json_objects(text):
        code = obj.get("code")
        if isinstance(code, str) and code.strip():
            return strip_fence(code)
    m = re.search(r"```(?:python|py)\s*\n(.*?)```", text, re.S)
    if m:
        return m.group(1).strip()
    return _code_in_broken_json(text)


_CODE_FIELD = re.compile(r""""code"\s*:\s*"(.*?)"\s*,\s*"(?:simulation|answer|reasoning|trace)"\s*:""", re.S)


def _code_in_broken_json(text: str) -> str | None:
    """The `code` string of an object that does not parse (raw newlines or quotes inside it)."""
    m = _CODE_FIELD.search(text)
    if not m:
        return None
    raw = m.group(1)
    try:
        code = json.loads(f'"{raw}"', strict=False)
    except ValueError:
        code = raw.replace("\\n", "\n").replace('\\"', '"').replace("\\t", "\t")
    return strip_fence(code) if code.strip() else None


def strip_fence(code: str) -> str:
    m = re.match(r"\s*```[a-zA-Z0-9_+-]*\s*\n(.*?)```\s*$", code, re.S)
    return (m.group(1) if m else code).strip()


def parse_printed(stdout: str) -> Any:
    """The value a program printed on its last non-empty line: JSON, a Python literal, or the text."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        return None
    last = lines[-1].strip()
    value = _load(last)
    if value is not _MISSING:
        return value
    label = re.match(r"^[A-Za-z][\w ]*[:=]\s*(.+)$", last)  # "Answer: 42"
    if label:
        value = _load(label.group(1).strip())
        if value is not _MISSING:
            return value
    return last
