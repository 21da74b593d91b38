"""A file's lines as an Arrow column, without copying them or decoding them in Python.

JSON-lines files are read as bytes and cut at newlines; each line becomes one value of a
binary Arrow array that points into the file's buffer. DuckDB decodes and parses them in bulk, so
Python touches each line only to find where it ends. Line numbers are exact (1-based, blank lines
counted), which is what a quarantine entry needs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa


@dataclass(frozen=True)
class Lines:
    """One file's lines: numbers, bytes (newline included) and whether the last one was cut off."""

    numbers: pa.Array  # int64, 1-based
    data: pa.Array  # large_binary, one value per line
    unterminated: bool  # the file does not end with a newline
    size: int


def split_lines(path: Path) -> Lines:
    raw = path.read_bytes()
    ends = _line_ends(raw)
    offsets = np.empty(len(ends) + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends
    data = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(raw)]
    )
    numbers = pa.array(np.arange(1, len(ends) + 1, dtype=np.int64))
    return Lines(numbers, data, bool(raw) and not raw.endswith(b"\n"), len(raw))


def _line_ends(raw: bytes) -> list[int]:
    """Offsets just past each newline, plus the end of an unterminated last line."""
    ends, find, pos = [], raw.find, 0
    while True:
        cut = find(b"\n", pos)
        if cut < 0:
            break
        pos = cut + 1
        ends.append(pos)
    if pos < len(raw):
        ends.append(len(raw))
    return ends


def show(raw: bytes) -> str:
    """A quarantined line as text: invalid UTF-8 bytes become U+FFFD, the newline is dropped."""
    return raw.decode("utf-8", errors="replace").rstrip("\r\n")
