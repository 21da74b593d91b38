"""res.csv (Nov–Dec 2025 checkpoints): a pandas dump of the res.jsonl fields.

The first column is pandas' row index (empty header); booleans are `True`/`False` (or 0/1 in older
dumps); prompts span lines inside quotes; there is no `index_in_kind`, so the instance index is
derived from the row order (see `pipeline`). Files are small, so records are read in Python and
handed to DuckDB as Arrow columns.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa

from evalhouse.vocabulary import ARM_CODES as ARMS

from .csvrows import columns, read_csv, show
from .records import REPLY, REPR, records_table
from .res_jsonl import ARM_KEY, ARM_KEYS, CORE, REQUIRED_ARM

NAME = "legacy-res-csv"


def read(path: Path, file_idx: int) -> tuple[pa.Table, int]:
    """The file's records in the record layout, and its size in bytes."""
    file = read_csv(path)
    cells = dict(columns(file))
    header_defect = _header_defect(file.header)
    n = len(file.records)
    out: dict[str, list] = {
        "file_idx": [file_idx] * n,
        "line": [r.line for r in file.records],
        "source_row": cells.get("", [None] * n) if file.header and file.header[0] == "" else [None] * n,
    }
    for column, key in CORE.items():
        out[column] = cells.get(key, [None] * n)
    for arm in ARMS:
        present = all(f"{arm}_{s}" in cells for s in REQUIRED_ARM)
        for field, suffix in ARM_KEYS.items():
            key = f"{arm}_{suffix}"
            out[f"{arm}_{field}"] = cells[key] if present and key in cells and key != "code_parse_err" else [None] * n
        out[f"{arm}_mode"] = [REPR if arm == "code" else REPLY] * n
    out["defect"] = [r.defect or header_defect for r in file.records]
    out["raw"] = [show(r.raw) for r in file.records]
    return records_table(out), file.size


def _header_defect(header: list[str]) -> str | None:
    """What is wrong with every record because of the header: an unknown arm, an incomplete arm."""
    names = [h.strip() for h in header]
    prefixes = {h: m.group(1) for h in names if (m := re.match(ARM_KEY, h))}
    foreign = {h: arm for h, arm in prefixes.items() if arm not in ARMS}
    if foreign:
        arms = ", ".join(f"'{arm}'" for arm in sorted(set(foreign.values())))
        return f"unknown arm {arms} (columns {', '.join(foreign)})"
    missing = [
        f"{arm}_{s}"
        for arm in ARMS
        if any(f"{arm}_{s}" in names for s in REQUIRED_ARM)
        for s in REQUIRED_ARM
        if f"{arm}_{s}" not in names
    ]
    return "missing columns: " + ", ".join(missing) if missing else None
