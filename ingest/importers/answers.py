"""Reading the answer out of each legacy response with the collector's own reader (evalhouse.ingest.answers).

A legacy arm holds either a model reply (read like the collector's), a value the legacy pipeline already
extracted, or the Python repr of what executed code returned. Each distinct (kind, text) is read once: a
reply repeated across copies of a run costs one read.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from evalhouse.ingest.answers import EXTRACTOR_VERSION, extract_answer, normalize

from .records import REPLY, REPR, VALUE

SENTINELS = {"-1": "legacy_sentinel"}  # what the Sept pipeline wrote when it could not parse an answer
ANSWER_COLUMNS = ("parsed_answer", "raw_answer", "parse_error", "extractor_version")


def read_answers(rows: Iterable[tuple[int, str, str, str | None]]) -> pa.Table:
    """(aid, kind, mode, text) -> aid, parsed_answer, raw_answer, parse_error, extractor_version.

    Replies are read by the collector's reader and carry its version; values and reprs are the legacy
    pipeline's own reading, only normalised, so they carry none."""
    out: dict[str, list] = {"aid": [], **{c: [] for c in ANSWER_COLUMNS}}
    read: dict[tuple[str, str, str | None], tuple] = {}
    for aid, kind, mode, text in rows:
        key = (kind, mode, text)
        answer = read.get(key)
        if answer is None:
            answer = read[key] = read_answer(kind, mode, text)
        out["aid"].append(aid)
        for column, value in zip(ANSWER_COLUMNS, answer):
            out[column].append(value)
    types = {"aid": pa.int64()}
    return pa.table({k: pa.array(v, types.get(k, pa.string())) for k, v in out.items()})


def read_answer(kind: str, mode: str, text: str | None) -> tuple[str | None, str | None, str | None, str | None]:
    """(parsed_answer, raw_answer, parse_error, extractor_version) of one arm's text."""
    if mode == REPLY:
        extraction = extract_answer(text)
        if not extraction.ok:
            return None, None, extraction.error, EXTRACTOR_VERSION
        return (*normalize(kind, extraction.answer), EXTRACTOR_VERSION)
    payload = (text or "").strip()
    if mode == VALUE:
        if not payload:
            return None, None, "empty_response", None
        if payload in SENTINELS:
            return None, payload, SENTINELS[payload], None
        return (*normalize(kind, payload), None)
    if mode == REPR:
        if not payload:
            return None, None, "no_output", None
        return (*normalize(kind, payload, from_repr=True), None)
    raise ValueError(f"unknown answer mode {mode!r}")
