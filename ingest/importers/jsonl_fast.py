"""res.jsonl through DuckDB's own JSON reader: the path every well-formed file takes.

`read_json` parses each line once, in parallel, straight into columns, and keeps the files' row
order, so the k-th row of a file is its k-th non-blank line. What that reader cannot report is
handed to the line-by-line reader (`res_jsonl.load`), which can:

- a line that is not JSON (or not UTF-8) makes `read_json` fail naming the file: that file is
  read line by line and the others are read again;
- keys of an arm the warehouse does not know are dropped by `read_json`: a file whose count of
  `_answer"` or `_correct"` is not four per line may hold one, so it is read line by line;
- a file whose row count differs from its non-blank line count is read line by line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from evalhouse.vocabulary import ARM_CODES as ARMS

from .lines import blank_lines, line_ends
from .records import RECORD_SCHEMA, REPLY, REPR
from .res_jsonl import KEYS, RECORD_KEYS
from .statements import SQL

FAILED_FILE = re.compile(r'in file "(?P<file>[^"]+)"')
MAX_RETRIES = 8
KEY_MARKS = (b'_answer"', b'_correct"')  # each arm's key ends so, once per record (README §2a)


@dataclass(frozen=True)
class Sniffed:
    """What the fast reader needs to know about a file before trusting it."""

    file_idx: int
    path: Path
    lines: np.ndarray  # the numbers of its non-blank lines
    plain: bool  # every record has exactly the four known arms' keys, as far as counting tells


def sniff(file_idx: int, path: Path) -> Sniffed:
    raw = path.read_bytes()
    ends = line_ends(raw)
    blank = set(blank_lines(raw, ends))
    numbers = np.array([i + 1 for i in range(len(ends)) if i not in blank], dtype=np.int64)
    plain = all(raw.count(mark) == len(ARMS) * len(numbers) for mark in KEY_MARKS)
    return Sniffed(file_idx, path, numbers, plain)


def load(con: duckdb.DuckDBPyConnection, files: list[Sniffed]) -> tuple[pa.Table, list[int]]:
    """The records (record layout, as Arrow) of the files DuckDB's reader can read, and the others."""
    todo = [f for f in files if f.plain and len(f.lines)]
    rejected = [f.file_idx for f in files if not (f.plain and len(f.lines))]
    table = None
    for _ in range(MAX_RETRIES):
        if not todo:
            break
        try:
            table = con.execute(*_statement(todo)).to_arrow_table()
            break
        except duckdb.Error as exc:
            failed = FAILED_FILE.search(str(exc))
            culprit = next((f for f in todo if failed and str(f.path) == failed.group("file")), None)
            if culprit is None:
                raise
            todo.remove(culprit)
            rejected.append(culprit.file_idx)
    else:
        rejected += [f.file_idx for f in todo]
        todo = []
    if table is None or not todo:
        return RECORD_SCHEMA.empty_table(), rejected
    return _with_lines(table, todo, rejected), rejected


def _with_lines(table: pa.Table, files: list[Sniffed], rejected: list[int]) -> pa.Table:
    """Give each row its line: a file's rows come in line order, blank lines skipped. A file whose row
    count is not its count of non-blank lines is dropped here and read line by line instead."""
    idx = table.column("file_idx").to_numpy()
    keep = np.ones(len(idx), dtype=bool)
    lines = np.zeros(len(idx), dtype=np.int64)
    bounds = np.flatnonzero(np.diff(idx)) + 1
    starts = np.concatenate([[0], bounds]) if len(idx) else np.array([], dtype=np.int64)
    ends = np.concatenate([bounds, [len(idx)]]) if len(idx) else np.array([], dtype=np.int64)
    by_idx = {f.file_idx: f for f in files}
    seen = set()
    for start, end in zip(starts, ends):
        sniffed = by_idx[int(idx[start])]
        seen.add(sniffed.file_idx)
        if end - start == len(sniffed.lines):
            lines[start:end] = sniffed.lines
        else:
            keep[start:end] = False
            rejected.append(sniffed.file_idx)
    rejected += [f.file_idx for f in files if f.file_idx not in seen]
    table = table.set_column(table.schema.get_field_index("line"), "line", pa.array(lines))
    return table.filter(pa.array(keep)) if not keep.all() else table


def _statement(files: list[Sniffed]) -> tuple[str, dict]:
    """The statement and its parameters: the files' paths, and their numbers in the batch."""
    parameters = {
        "paths": [str(f.path) for f in files],
        "file_idx": [f.file_idx for f in files],
        "columns": dict.fromkeys(KEYS, "VARCHAR"),
        "reply": REPLY,
        "repr": REPR,
    }
    return SQL("jsonl_fast.sql", **RECORD_KEYS), parameters
