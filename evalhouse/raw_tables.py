"""The raw tables under `data/raw/`: one folder each, and the schema the warehouse reads it with.

The warehouse reads a folder as every Parquet file under it, by column name (`union_by_name`). Each
folder holds one `schema.parquet`: no rows, every column the table can have, typed. With it an empty
folder reads as an empty table rather than an error, and a column that older shards lack reads as NULL
(schema evolution). `ensure_schema_shards` writes them before a build: `evalhouse build` calls it, and
the dbt-duckdb plugin (`evalhouse.dbt_plugin`) does for a plain `dbt build`.

The schemas are the writers' own (collector, importers, harness importers, problems, metrics, the answer
re-reader), so a
table's shape is stated once, where its rows are written.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from . import storage
from .files import write_atomic

SCHEMA_SHARD = "schema.parquet"


@functools.cache
def schemas() -> dict[str, pa.Schema]:
    """Each raw table's folder name and its full schema."""
    from evalhouse.ingest.answers import ANSWER_SCHEMA
    from evalhouse.ingest.harness.rows import SAMPLE_SCHEMA, SCORE_SCHEMA
    from evalhouse.ingest.importers.schemas import IMPORT_RESPONSE_SCHEMA, QUARANTINE_SCHEMA
    from evalhouse.ingest.metrics import METRICS_SCHEMA
    from evalhouse.ingest.shards import RESPONSE_SCHEMA
    from evalhouse.ingest.store import problems_schema

    responses = pa.unify_schemas([RESPONSE_SCHEMA, IMPORT_RESPONSE_SCHEMA])
    return {
        "responses": responses,
        "problems": problems_schema(),
        "metrics": METRICS_SCHEMA,
        "quarantine": QUARANTINE_SCHEMA,
        "answers": ANSWER_SCHEMA,
        "benchmark_samples": SAMPLE_SCHEMA,
        "benchmark_scores": SCORE_SCHEMA,
    }


def ensure_schema_shards(raw: Path | str) -> None:
    """Write each raw folder's `schema.parquet` where it is missing or out of date (atomically; in a bucket,
    one PUT each)."""
    remote = isinstance(raw, str) and "://" in raw
    for table, schema in schemas().items():
        folder = f"{raw.rstrip('/')}/{table}" if remote else Path(raw) / table
        try:
            stored = (
                storage.read_schema(f"{folder}/{SCHEMA_SHARD}") if remote else pq.read_schema(folder / SCHEMA_SHARD)
            )
            if stored.equals(schema, check_metadata=False):
                continue
        except (OSError, pa.ArrowException):
            pass
        if remote:
            storage.write_shard(schema.empty_table(), folder, SCHEMA_SHARD.removesuffix(".parquet"))
        else:
            write_atomic(folder / SCHEMA_SHARD, functools.partial(pq.write_table, schema.empty_table()))


def is_schema_shard(path: Path | str) -> bool:
    """True for a folder's schema file, which holds no rows and is not a shard of data."""
    return str(path).rsplit("/", 1)[-1] == SCHEMA_SHARD
