"""The tables an import writes besides the responses' own columns."""

from __future__ import annotations

import pyarrow as pa

from evalhouse.ingest.shards import REQUIRED_COLUMNS, RESPONSE_SCHEMA

# Bump when the same file would now import differently, so unchanged files are imported again.
IMPORTER_VERSION = "2"
COUNTS = ("rows_read", "rows_loaded", "rows_quarantined", "rows_superseded", "responses", "arms_never_ran")

IMPORT_COLUMNS = [
    ("model_as_given", pa.string()),
    ("index_in_kind", pa.int32()),
    ("raw_answer", pa.string()),
    ("source_file", pa.string()),
    ("source_line", pa.int64()),
    ("source_row", pa.string()),
    ("source_request_id", pa.string()),
    ("source_status", pa.string()),
    ("source_parse_failed", pa.bool_()),
]
# The contract's required columns, the collector's columns an import fills, then the import's own.
FILLED = {
    "sample",
    "created_at",
    "prompt_version",
    "parsed_answer",
    "parse_error",
    "extractor_version",
    "verdict",
    "verdict_reason",
    "exec_status",
    "exec_exit_code",
    "exec_stderr",
}
IMPORT_RESPONSE_SCHEMA = pa.schema(
    [f for f in RESPONSE_SCHEMA if f.name in REQUIRED_COLUMNS or f.name in FILLED]
    + [pa.field(n, t) for n, t in IMPORT_COLUMNS]
)
QUARANTINE_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("line", pa.int64()),
        ("reason", pa.string()),
        ("raw", pa.string()),
        ("importer", pa.string()),
        ("quarantined_at", pa.timestamp("us", tz="UTC")),
    ]
)
MANIFEST_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("importer", pa.string()),
        ("importer_version", pa.string()),
        ("model_override", pa.string()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("rows_read", pa.int64()),
        ("rows_loaded", pa.int64()),
        ("rows_quarantined", pa.int64()),
        ("rows_superseded", pa.int64()),
        ("responses", pa.int64()),
        ("arms_never_ran", pa.int64()),
        ("runs", pa.list_(pa.string())),
        ("imported_at", pa.timestamp("us", tz="UTC")),
    ]
)
