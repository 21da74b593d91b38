"""Reading analysis input: a warehouse table (read-only) or a CSV/Parquet file, with an optional filter."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from evalhouse.config import paths


class SourceError(Exception):
    pass


# What to run when the warehouse lacks the data a command reads (the commands' Error lines end with these).
COLLECT_HINT = (
    "collect (`evalhouse ingest run …`) or import (`evalhouse ingest import …`) responses, then run `evalhouse build`"
)
METRICS_HINT = "load per-model metrics (`evalhouse ingest metrics FILE.csv`), then run `evalhouse build`"


def empty_hint(source: str) -> str:
    """What to run when a warehouse table has no rows (nothing for a file: the user chose it)."""
    if Path(source).suffix.lower() in (".csv", ".parquet"):
        return ""
    return f"; {METRICS_HINT if source.endswith('model_metrics') else COLLECT_HINT}"


@contextmanager
def warehouse(path: Path | None = None):
    """A read-only connection to the warehouse; a clear error when there is none yet."""
    path = path or paths().warehouse
    if not path.exists():
        raise SourceError(f"no warehouse at {path}; run `evalhouse build` first")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise SourceError(f"cannot open {path}: {str(exc).splitlines()[0]}") from None
    try:
        yield con
    finally:
        con.close()


def _relation(source: str) -> str:
    suffix = Path(source).suffix.lower()
    if suffix == ".csv":
        if not Path(source).exists():
            raise SourceError(f"{source}: no such file")
        return f"read_csv_auto('{source}', header = true)"
    if suffix == ".parquet":
        if not Path(source).exists():
            raise SourceError(f"{source}: no such file")
        return f"read_parquet('{source}')"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?", source):
        raise SourceError(f"{source!r} is neither a warehouse table (schema.table) nor a .csv/.parquet file")
    return source


def load_frame(source: str, where: str | None = None, warehouse_path: Path | None = None) -> pd.DataFrame:
    relation = _relation(source)
    sql = f"select * from {relation}" + (f" where {where}" if where else "")
    if relation is source:
        with warehouse(warehouse_path) as con:
            return _run(con, sql, source)
    con = duckdb.connect()
    try:
        return _run(con, sql, source)
    finally:
        con.close()


def query(sql: str, warehouse_path: Path | None = None) -> pd.DataFrame:
    """Run SQL on the warehouse, read-only; a missing table says which and how to make it."""
    with warehouse(warehouse_path) as con:
        try:
            return con.execute(sql).df()
        except duckdb.CatalogException as exc:
            raise SourceError(f"{str(exc).splitlines()[0]}; run `evalhouse build` first") from None


def load_instances(where: str | None = None, warehouse_path: Path | None = None) -> pd.DataFrame:
    """The analysis unit from the warehouse: one row per model × problem instance × arm with its replicate
    counts (`marts.acc_model_arm_instance`), optionally filtered (`--where`, SQL on the mart's columns)."""
    sql = "select * from marts.acc_model_arm_instance" + (f" where ({where})" if where else "")
    with warehouse(warehouse_path) as con:
        try:
            return _run(con, sql, "marts.acc_model_arm_instance")
        except SourceError as exc:
            if "does not exist" in str(exc):
                raise SourceError(f"{exc}; run `evalhouse build` first") from None
            raise


def _run(con: duckdb.DuckDBPyConnection, sql: str, source: str) -> pd.DataFrame:
    try:
        return con.execute(sql).df()
    except duckdb.CatalogException as exc:
        raise SourceError(f"{source}: {str(exc).splitlines()[0]}") from None
    except (duckdb.ParserException, duckdb.BinderException) as exc:
        raise SourceError(f"bad --where or source: {str(exc).splitlines()[0]}") from None
