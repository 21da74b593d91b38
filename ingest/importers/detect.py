"""Which legacy format a file is, decided from its name and its first lines.

The research pipeline left per-sample files (res.jsonl, res.csv, the older per-run
`run_<ts>_results_seed_<s>.csv`) beside aggregate files (per-kind tables, summaries, result tables,
Markdown). Per-sample files are imported; aggregates are recognised and skipped, because their
figures are derived from the samples and the warehouse derives its own.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from evalhouse.ingest.harness.detect import sniff

RES_JSONL = "res-jsonl"
RES_CSV = "res-csv"
RUN_CSV = "run-csv"
FORMATS = (RES_JSONL, RES_CSV, RUN_CSV)

RUN_CSV_NAME = re.compile(r"^(?P<run>run_\d{8}_\d{6})_results_seed_(?P<seed>\d+)\.csv$", re.I)
RUN_CSV_COLUMNS = {"idx", "kind", "digits", "truth", "answer_nl", "correct_nl", "problem"}
RES_CSV_COLUMNS = {"model", "seed", "kind", "digit", "question", "answer"}
# Columns that only summary tables have: accuracies, rates, counts per route, test statistics.
AGGREGATE_COLUMN = re.compile(r"(^|_)(acc|accuracy|route\d|pct|ci|mcnemar|rer)(_|$)|%|^n$", re.I)
SNIFF_BYTES = 1 << 16
UNKNOWN = (
    "not a legacy result file or harness log of a known format (expected res.jsonl, res.csv, "
    "run_*_results_seed_N.csv, an inspect .eval/.json log, lm-eval results_*.json, a HELM run_spec.json, "
    "or Every Eval Ever .json/.jsonl)"
)


@dataclass(frozen=True)
class Detected:
    """A file and what it is: an importable format, an aggregate to skip, or unrecognised."""

    path: Path
    format: str | None = None  # one of FORMATS when importable
    aggregate: str | None = None  # what kind of aggregate, when skipped as one
    problem: str | None = None  # why it is not a legacy result file
    explicit: bool = False  # named on the command line rather than found in a folder
    part_of: str | None = None  # a harness file read with another one (named here), not on its own

    @property
    def importable(self) -> bool:
        return self.format is not None


def discover(paths: Iterable[Path]) -> Iterator[Detected]:
    """Every file under the given files and folders (recursively, sorted), classified."""
    for given in paths:
        if given.is_dir():
            for path in sorted(p for p in given.rglob("*") if p.is_file() and not _hidden(p, given)):
                yield detect(path)
        else:
            yield detect(given, explicit=True)


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def detect(path: Path, explicit: bool = False) -> Detected:
    name = path.name.lower()
    if name.endswith((".md", ".markdown")):
        return Detected(path, aggregate="Markdown", explicit=explicit)
    if name.endswith("_summary.txt"):
        return Detected(path, aggregate="run summary", explicit=explicit)
    if name.endswith("_by_kind_digit.csv"):
        return Detected(path, aggregate="per-kind × digit table", explicit=explicit)
    if name.endswith("_outcomes.csv"):
        return Detected(path, aggregate="flattened outcome table", explicit=explicit)
    raw_head = _head_bytes(path)
    harness = sniff(path, raw_head)
    if harness is not None:
        return Detected(
            path, format=harness.format, aggregate=harness.skipped, part_of=harness.part_of, explicit=explicit
        )
    head = raw_head.decode("utf-8", errors="replace")
    if name.endswith(".jsonl"):
        return _detect_jsonl(path, head, explicit)
    if name.endswith(".csv"):
        return _detect_csv(path, head, explicit)
    return Detected(
        path,
        problem=UNKNOWN,
        explicit=explicit,
    )


def _head_bytes(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(SNIFF_BYTES)


def _detect_jsonl(path: Path, head: str, explicit: bool) -> Detected:
    """res.jsonl when one of its first lines is a record with `kind` and some arm's answer.

    A file whose first lines are all unreadable is still taken as res.jsonl (a damaged copy): its bad
    lines are quarantined one by one. JSON lines with other keys are another format.
    """
    lines = [line for line in head.splitlines()[:20] if line.strip()]
    objects = []
    for line in lines:
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            objects.append(value)
            break
    if not lines:
        return Detected(path, problem="empty file", explicit=explicit)
    if not objects:
        if any(line.lstrip().startswith("{") for line in lines):
            return Detected(path, format=RES_JSONL, explicit=explicit)
        return Detected(path, problem="not JSON lines (no line is a JSON object)", explicit=explicit)
    if any("kind" in o and any(k.endswith("_answer") for k in o) for o in objects):
        return Detected(path, format=RES_JSONL, explicit=explicit)
    keys = ", ".join(list(objects[0])[:6])
    return Detected(
        path, problem=f"JSON lines of another format (keys: {keys}, …), not res.jsonl records", explicit=explicit
    )


def _detect_csv(path: Path, head: str, explicit: bool) -> Detected:
    try:
        header = next(csv.reader(io.StringIO(head.lstrip("\ufeff"))), [])
    except csv.Error:
        header = []
    columns = {c.strip() for c in header}
    if not columns - {""}:
        return Detected(path, problem="empty file or no CSV header", explicit=explicit)
    if RUN_CSV_NAME.match(path.name) or columns >= RUN_CSV_COLUMNS:
        return Detected(path, format=RUN_CSV, explicit=explicit)
    if columns >= RES_CSV_COLUMNS and any(c.endswith("_answer") for c in columns):
        return Detected(path, format=RES_CSV, explicit=explicit)
    if {"kind", "digits", "N"} <= columns:
        return Detected(path, aggregate="per-kind × digit table", explicit=explicit)
    if not any(c.endswith("_answer") or c.startswith("answer_") for c in columns) and any(
        AGGREGATE_COLUMN.search(c) for c in columns
    ):
        return Detected(path, aggregate="result table", explicit=explicit)
    shown = ", ".join(header[:6])
    return Detected(path, problem=f"CSV of another format (columns: {shown}, …)", explicit=explicit)
