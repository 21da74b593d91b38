"""Small, explicit raw files for warehouse tests: response shards and problem files written the way the
collector and importers write them (atomic Parquet under data/raw/)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from evalhouse.config import Paths
from evalhouse.ingest.shards import REQUIRED_COLUMNS, RESPONSE_SCHEMA, table_from_rows, write_shard
from evalhouse.ingest.store import problems_schema

T0 = datetime(2026, 1, 10, tzinfo=timezone.utc)


def response(
    response_id: str, problem_id: str = "p1", kind: str = "add", arm: str = "nl", *, minutes: int = 0, **fields: Any
) -> dict[str, Any]:
    """One collector row; `minutes` after T0 is its created_at. Unset fields are a success that parsed 42."""
    row: dict[str, Any] = {
        "response_id": response_id,
        "run_id": "run-1",
        "source": "collector",
        "model": "synthetic/atlas-large",
        "problem_id": problem_id,
        "kind": kind,
        "digit": 2,
        "arm": arm,
        "seed": 0,
        "sample": 0,
        "prompt": f"prompt of {response_id}",
        "response_text": '{"answer": 42}',
        "gold_answer": "42",
        "latency_ms": 100.0,
        "prompt_tokens": 10,
        "completion_tokens": 20,
        "cost": 0.001,
        "attempt": 1,
        "created_at": T0 + timedelta(minutes=minutes),
        "parsed_answer": "42",
        "verdict": "correct",
        "verdict_reason": "ok",
    }
    row.update(fields)
    return row


def failed(
    response_id: str, problem_id: str = "p1", arm: str = "nl", *, minutes: int = 0, **fields: Any
) -> dict[str, Any]:
    """A request that failed with a server error."""
    return response(
        response_id,
        problem_id,
        arm=arm,
        minutes=minutes,
        error="HTTP 500",
        error_class="server_error",
        status_code=500,
        response_text=None,
        parsed_answer=None,
        verdict=None,
        verdict_reason=None,
        latency_ms=None,
        prompt_tokens=None,
        completion_tokens=None,
        cost=None,
        attempt=4,
        **fields,
    )


def write_responses(
    paths: Paths,
    rows: list[dict[str, Any]],
    run: str = "run-1",
    source: str = "collector",
    required_only: bool = False,
    name: str | None = None,
) -> Path:
    """A shard under responses/source=…/run_id=…/; `required_only` writes an older shard's columns only."""
    schema = pa.schema([RESPONSE_SCHEMA.field(c) for c in REQUIRED_COLUMNS]) if required_only else RESPONSE_SCHEMA
    folder = paths.responses / f"source={source}" / f"run_id={run}"
    return write_shard(table_from_rows(rows, schema), folder, name)


def write_problems(paths: Paths, golds: dict[str, str], kind: str = "add", name: str = "problems-test") -> Path:
    rows = [
        {
            "problem_id": pid,
            "kind": kind,
            "digit": 2,
            "index": i,
            "question": f"question {pid}",
            "gold_answer": gold,
            "instance_json": "{}",
            "problem_seed": 0,
            "generator_version": "g1",
        }
        for i, (pid, gold) in enumerate(golds.items())
    ]
    return write_shard(table_from_rows(rows, problems_schema()), paths.problems, name)


def query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def differences(a: Path, b: Path) -> dict[str, int]:
    """Rows that differ between two warehouses, per table, ignoring when each build ran (its load log)."""
    ignored = {
        "builds": None,
        "stg_shards": {"invocation_id", "loaded_at"},
        "graded_responses": {"graded_in_build"},
        "int_responses_latest": {"chosen_in_build"},
    }
    con = duckdb.connect()
    con.execute(f"attach '{a}' as a (read_only); attach '{b}' as b (read_only)")
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = 'a' order by all"
    ).fetchall()
    diff = {}
    for schema, table in tables:
        skip = ignored.get(table, set())
        if skip is None:
            continue
        columns = [
            c
            for (c,) in con.execute(
                "select column_name from duckdb_columns() where database_name = 'a' and schema_name = ? and table_name = ? "
                "order by column_index",
                [schema, table],
            ).fetchall()
            if c not in skip
        ]
        cols = ", ".join(f'"{c}"' for c in columns)
        n = con.execute(
            f"select (select count(*) from (select {cols} from a.{schema}.{table} except all select {cols} from b.{schema}.{table}))"
            f" + (select count(*) from (select {cols} from b.{schema}.{table} except all select {cols} from a.{schema}.{table}))"
        ).fetchone()[0]
        diff[f"{schema}.{table}"] = n
    con.close()
    return diff
