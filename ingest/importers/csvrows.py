"""CSV records with the line each starts on, and what is wrong with the ones that cannot be read.

Legacy CSVs hold quoted multi-line cells, so a record's line is counted from the physical lines the
parser consumed. A record is defective when its bytes are not UTF-8, when it has more or fewer
fields than the header, or when the file ends inside it (a quote left open, or fields missing on an
unterminated last line); defective records keep their raw text for the quarantine.
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_BAD_BYTES = re.compile("[\udc80-\udcff]")
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # prompts and model replies exceed the 128 KiB default


@dataclass(frozen=True)
class CsvRecord:
    line: int
    fields: list[str]
    raw: str
    defect: str | None = None


@dataclass(frozen=True)
class CsvFile:
    header: list[str]
    records: list[CsvRecord]
    size: int


def read_csv(path: Path) -> CsvFile:
    data = path.read_bytes()
    try:
        text, checked = data.decode("utf-8"), True
    except UnicodeDecodeError:
        text, checked = data.decode("utf-8", errors="surrogateescape"), False
    text = text.removeprefix("\ufeff")
    physical = _physical_lines(text)
    reader = csv.reader(iter(physical), strict=False)
    header: list[str] = []
    records: list[CsvRecord] = []
    consumed = 0
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # a lone carriage return in an unquoted cell: that record is defective
            start, consumed = consumed + 1, reader.line_num
            raw = "".join(physical[start - 1 : consumed])
            records.append(CsvRecord(start, [], raw.rstrip("\r\n"), f"unreadable CSV ({exc})"))
            continue
        start, consumed = consumed + 1, reader.line_num
        raw = "".join(physical[start - 1 : consumed])
        if not fields or (len(fields) == 1 and not fields[0].strip() and not raw.strip()):
            continue
        if not header:
            header = fields
            continue
        records.append(
            CsvRecord(
                start, fields, raw.rstrip("\r\n"), _defect(fields, header, raw, checked, last=consumed == len(physical))
            )
        )
    return CsvFile(header, records, len(data))


def _physical_lines(text: str) -> list[str]:
    lines = text.split("\n")
    out = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1])
    return out


def _defect(fields: list[str], header: list[str], raw: str, checked: bool, last: bool) -> str | None:
    if not checked and _BAD_BYTES.search(raw):
        return "invalid UTF-8"
    unterminated = last and not raw.endswith("\n")
    if unterminated and raw.count('"') % 2:
        return "truncated last line (the file ends inside a quoted cell)"
    if len(fields) != len(header):
        found = f"expected {len(header)} fields, found {len(fields)}"
        return f"truncated last line ({found})" if unterminated else f"wrong column count: {found}"
    return None


def show(raw: str) -> str:
    """Raw text for the quarantine: undecodable bytes become U+FFFD."""
    return raw.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")


def columns(file: CsvFile) -> Iterator[tuple[str, list[str]]]:
    """Each header column with its cells (empty for defective or short records)."""
    for i, name in enumerate(file.header):
        yield name, [r.fields[i] if r.defect is None and i < len(r.fields) else "" for r in file.records]
