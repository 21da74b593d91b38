"""A file's lines as an Arrow string column, without copying them or decoding them in Python.

JSON-lines files are read as bytes and cut at newlines; the lines become one Arrow string array
that points into the file's buffer (Arrow checks the UTF-8 in bulk). Lines that are not UTF-8 are
null in that array and remembered, so they can be quarantined; blank lines are dropped. Line
numbers are exact (1-based, blank lines counted), which is what a quarantine entry needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_BLANK_START = frozenset(b" \t\r\n\x0b\x0c")


@dataclass(frozen=True)
class Lines:
    """One file's non-blank lines: numbers, text (null where not UTF-8), the raw bytes, and whether it was cut."""

    numbers: pa.Array  # int64, 1-based
    text: pa.Array  # large_string, newline included; null for lines that are not UTF-8
    raw: pa.Array  # large_binary, the same lines as bytes
    unterminated: bool  # the file does not end with a newline
    size: int

    def raw_line(self, number: int) -> bytes:
        """The bytes of line `number` (1-based)."""
        index = int(np.searchsorted(self.numbers.to_numpy(), number))
        return self.raw[index].as_py()


def split_lines(path: Path) -> Lines:
    raw = path.read_bytes()
    ends = line_ends(raw)
    offsets = np.empty(len(ends) + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends
    data = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(raw)]
    )
    numbers = pa.array(np.arange(1, len(ends) + 1, dtype=np.int64))
    text = _as_text(data, raw, offsets)
    blank = blank_lines(raw, ends)
    if blank:
        keep = np.ones(len(ends), dtype=bool)
        keep[blank] = False
        mask = pa.array(keep)
        numbers, text, data = pc.filter(numbers, mask), pc.filter(text, mask), pc.filter(data, mask)
    return Lines(numbers, text, data, bool(raw) and not raw.endswith(b"\n"), len(raw))


def line_ends(raw: bytes) -> list[int]:
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


def blank_lines(raw: bytes, ends: list[int]) -> list[int]:
    """Indexes (0-based) of the lines holding only whitespace; only lines starting with it are looked at."""
    blank, start = [], 0
    for i, end in enumerate(ends):
        if raw[start] in _BLANK_START and not raw[start:end].strip():
            blank.append(i)
        start = end
    return blank


def _as_text(data: pa.Array, raw: bytes, offsets: np.ndarray) -> pa.Array:
    """The lines as strings: zero-copy when the file is UTF-8, else with the bad lines set to null."""
    try:
        return data.cast(pa.large_string())
    except pa.ArrowInvalid:
        pass
    valid = np.ones(len(data), dtype=bool)
    for i in range(len(data)):
        try:
            raw[offsets[i] : offsets[i + 1]].decode("utf-8")
        except UnicodeDecodeError:
            valid[i] = False
    bitmap = pa.array(valid).buffers()[1]
    return pa.LargeStringArray.from_buffers(
        len(data), pa.py_buffer(offsets), pa.py_buffer(raw), bitmap, int((~valid).sum())
    )


def show(raw: bytes) -> str:
    """A quarantined line as text: invalid UTF-8 bytes become U+FFFD, the newline is dropped."""
    return raw.decode("utf-8", errors="replace").rstrip("\r\n")
