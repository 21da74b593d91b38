"""Reading answers out of model text.

Models wrap their JSON in fences, put prose around it, leave trailing commas, use single quotes or
answer with a Python repr. Extraction tolerates all of that; what it still cannot read is a
`parse_error` with a reason, which is different from a wrong answer and from an arm that never ran.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from typing import Any

_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*\s*\n(.*?)```", re.S)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
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


def _objects(text: str) -> list[str]:
    """Balanced `{...}` spans, outermost first, skipping braces inside strings."""
    spans, depth, start, quote, escaped = [], 0, -1, "", False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
            continue
        if ch in "\"'" and depth > 0:
            quote = ch
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                spans.append(text[start : i + 1])
    return spans


def _load(candidate: str) -> Any:
    """Parse one object: JSON, then JSON without trailing commas, then a Python literal."""
    for attempt in (candidate, _TRAILING_COMMA.sub(r"\1", candidate)):
        try:
            return json.loads(attempt, strict=False)
        except ValueError:
            pass
    pythonish = _TRAILING_COMMA.sub(r"\1", candidate)
    for attempt in (pythonish, re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", re.sub(r"\bnull\b", "None", pythonish)))):
        try:
            return ast.literal_eval(attempt)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            pass
    return _MISSING


def json_objects(text: str) -> list[dict[str, Any]]:
    """Every dict that can be read from the text: fenced blocks first, then the bare text."""
    found: list[dict[str, Any]] = []
    sources = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    for source in sources:
        for span in _objects(source):
            value = _load(span)
            if isinstance(value, dict):
                found.append(value)
    return found


def _answer_key(obj: dict[str, Any]) -> Any:
    for key, value in obj.items():
        if isinstance(key, str) and key.strip().lower() in ("answer", "final_answer"):
            return value
    return _MISSING


def extract_answer(text: str | None) -> Extraction:
    """The `answer` field of the first JSON-like object that has one."""
    if text is None or not text.strip():
        return Extraction(error="empty_response")
    objects = json_objects(text)
    if not objects:
        return Extraction(error="no_json_object")
    for obj in objects:
        value = _answer_key(obj)
        if value is not _MISSING:
            return Extraction(answer=value, payload=obj)
    return Extraction(error="no_answer_field", payload=objects[0])


def extract_code(text: str | None) -> str | None:
    """The program in a `sim` answer: its JSON `code` field, else the first Python fence."""
    if not text:
        return None
    for obj in json_objects(text):
        code = obj.get("code")
        if isinstance(code, str) and code.strip():
            return strip_fence(code)
    m = re.search(r"```(?:python|py)\s*\n(.*?)```", text, re.S)
    return m.group(1).strip() if m else None


def strip_fence(code: str) -> str:
    m = re.match(r"\s*```[a-zA-Z0-9_+-]*\s*\n(.*?)```\s*$", code, re.S)
    return (m.group(1) if m else code).strip()


def parse_printed(stdout: str) -> Any:
    """The value a program printed on its last non-empty line: JSON, a Python literal, or the text."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        return None
    last = lines[-1].strip()
    try:
        return json.loads(last)
    except ValueError:
        pass
    try:
        return ast.literal_eval(last)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return last
