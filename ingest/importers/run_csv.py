"""The older per-run CSVs (Sept 2025, `run_<ts>_results_seed_<s>.csv`): three arms, no model recorded.

Columns `answer_nl`/`correct_nl` are arm `nl`; `answer_code`/`correct_code` (code written, answer
stated, nothing run) are arm `sim`; `answer_code_exec`/`correct_code_exec` are arm `code`, whose
answer is a Python dict repr of the execution (`{'ok': True, 'value': 352, 'stdout': …}`). Answers
were already extracted by the old pipeline; `-1` and empty are its parse-failure sentinels. The
file does not name its model, so the caller must (`--model`).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pyarrow as pa

from .csvrows import columns, read_csv, show
from .detect import RUN_CSV_NAME
from .records import REPR, VALUE, records_table

NAME = "legacy-run-csv"
ARM_OF = {"nl": "nl", "code": "sim", "code_exec": "code"}  # the file's arm suffix -> warehouse arm
ARM_COLUMN = re.compile(r"^(answer|correct)_(.+)$")


def run_identity(path: Path) -> tuple[str, int]:
    """(run id, seed) from the file name, e.g. run_20250924_005007_results_seed_0.csv."""
    m = RUN_CSV_NAME.match(path.name)
    return (m.group("run"), int(m.group("seed"))) if m else (path.stem, 0)


def read(path: Path, file_idx: int, model: str) -> tuple[pa.Table, int]:
    file = read_csv(path)
    cells = dict(columns(file))
    n = len(file.records)
    run_id, seed = run_identity(path)
    header_defect = _header_defect(file.header)
    blank = [""] * n
    out: dict[str, list] = {
        "file_idx": [file_idx] * n,
        "line": [r.line for r in file.records],
        "source_row": cells.get("idx", blank),
        "model": [model] * n,
        "seed": [str(seed)] * n,
        "run_id": [run_id] * n,
        "kind": cells.get("kind", blank),
        "digit": cells.get("digits", blank),
        "question": cells.get("problem", blank),
        "gold": cells.get("truth", blank),
    }
    for suffix, arm in (("nl", "nl"), ("code", "sim")):
        out[f"{arm}_text"] = cells.get(f"answer_{suffix}", blank)
        out[f"{arm}_correct"] = cells.get(f"correct_{suffix}", blank)
        out[f"{arm}_status"] = ["ok" if r.defect is None else "" for r in file.records]
        out[f"{arm}_mode"] = [VALUE] * n
    executions = [_execution(cell) for cell in cells.get("answer_code_exec", blank)]
    out.update(
        code_text=[e["text"] for e in executions],
        code_correct=cells.get("correct_code_exec", blank),
        code_status=[e["status"] for e in executions],
        code_mode=[REPR] * n,
        code_exit_code=[e["exit_code"] for e in executions],
        code_stderr=[e["stderr"] for e in executions],
        code_latency_ms=[e["latency_ms"] for e in executions],
        defect=[r.defect or header_defect for r in file.records],
        raw=[show(r.raw) for r in file.records],
    )
    return records_table(out), file.size


def _execution(cell: str) -> dict[str, Any]:
    """The code arm's result from the dict repr: status, the returned value as a repr, stderr, time."""
    try:
        result = ast.literal_eval(cell) if cell.strip() else None
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        result = None
    if not isinstance(result, dict):
        return {
            "text": cell,
            "status": "unreadable" if cell.strip() else "",
            "exit_code": None,
            "stderr": None,
            "latency_ms": None,
        }
    status = "ok" if result.get("ok") else ("timeout" if result.get("timeout") else "error")
    duration = result.get("duration_s")
    return {
        "text": repr(result.get("value")) if status == "ok" else "",
        "status": status,
        "exit_code": None if result.get("retcode") is None else str(result.get("retcode")),
        "stderr": (result.get("stderr") or None),
        "latency_ms": None if not isinstance(duration, (int, float)) else repr(duration * 1000.0),
    }


def _header_defect(header: list[str]) -> str | None:
    names = [h.strip() for h in header]
    foreign = sorted({m.group(2) for h in names if (m := ARM_COLUMN.match(h)) and m.group(2) not in ARM_OF})
    if foreign:
        return "unknown arm " + ", ".join(f"'{a}'" for a in foreign)
    return None
