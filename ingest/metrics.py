"""`evalhouse ingest metrics FILE.csv`: per-model metrics from outside, stored long-form.

A `model` column names the model (id, display name or alias); optional `lab`, `category` and
`is_flagship` describe it; every other column whose cells are all numbers is a metric. An empty cell
is a missing value, not a zero: it gives no row.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa

from evalhouse.registry import resolve

from .shards import table_from_rows, write_shard

DESCRIPTIVE = ("model", "lab", "category", "is_flagship")

METRICS_SCHEMA = pa.schema(
    [
        ("model", pa.string()),
        ("model_as_given", pa.string()),
        ("lab", pa.string()),
        ("category", pa.string()),
        ("is_flagship", pa.int32()),
        ("metric", pa.string()),
        ("value", pa.float64()),
        ("source_file", pa.string()),
        ("loaded_at", pa.timestamp("us", tz="UTC")),
    ]
)


class MetricsError(Exception):
    pass


@dataclass
class MetricsLoad:
    file: Path
    shard: Path | str | None = None
    models: int = 0
    metrics: list[str] = field(default_factory=list)
    rows: int = 0
    missing_values: int = 0
    unknown_models: list[str] = field(default_factory=list)
    skipped_columns: list[str] = field(default_factory=list)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def load_metrics(file: Path, metrics_dir: Path | str) -> MetricsLoad:
    """Load a metrics CSV as one shard under `metrics_dir` (a local folder or an s3:// one)."""
    try:
        with open(file, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            records = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise MetricsError(f"{file}: cannot read as CSV ({exc})") from None
    if "model" not in header:
        raise MetricsError(f"{file}: line 1: no `model` column (columns: {', '.join(header) or 'none'})")
    result = MetricsLoad(file)
    candidates = [c for c in header if c not in DESCRIPTIVE and c]
    metrics = []
    for column in candidates:
        cells = [r[column].strip() for r in records if r.get(column) not in (None, "")]
        if cells and all(_number(c) is not None for c in cells):
            metrics.append(column)
        else:
            result.skipped_columns.append(column)
    if not metrics:
        raise MetricsError(f"{file}: no numeric metric columns besides {', '.join(DESCRIPTIVE)}")
    loaded_at = datetime.now(timezone.utc)
    rows = []
    for line, record in enumerate(records, start=2):
        given = (record.get("model") or "").strip()
        if not given:
            raise MetricsError(f"{file}: line {line}: empty model name")
        model = resolve(given)
        if model is None:
            result.unknown_models.append(given)
            model = given
        flag = (record.get("is_flagship") or "").strip()
        for metric in metrics:
            cell = (record.get(metric) or "").strip()
            if cell == "":
                result.missing_values += 1
                continue
            rows.append(
                {
                    "model": model,
                    "model_as_given": given,
                    "lab": (record.get("lab") or "").strip() or None,
                    "category": (record.get("category") or "").strip() or None,
                    "is_flagship": int(float(flag)) if flag else None,
                    "metric": metric,
                    "value": float(cell),
                    "source_file": str(file),
                    "loaded_at": loaded_at,
                }
            )
    result.models = len(records)
    result.metrics = metrics
    result.rows = len(rows)
    # One shard per source file name: loading the same file again replaces it.
    stem = "metrics-" + hashlib.sha256(str(file.resolve()).encode()).hexdigest()[:12]
    result.shard = write_shard(table_from_rows(rows, METRICS_SCHEMA), metrics_dir, stem)
    return result
