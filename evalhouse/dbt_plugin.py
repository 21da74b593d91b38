"""The dbt-duckdb plugin the profile loads: make the raw folders readable before a run.

A raw folder is read as all its Parquet files; `evalhouse.raw_tables` explains why each holds a
`schema.parquet`. `evalhouse build` writes them itself; this plugin does it for a plain `dbt build`.
Several models read the same shards, so DuckDB keeps their footers cached for the run.

It also passes the fingerprints `evalhouse build` sets in the environment to SQL, as the DuckDB
variables `getvariable('evalhouse_project_fingerprint')` and `…_input_fingerprints` that marts.builds
stores: through dbt's `env_var`, a value that differs on every build would make dbt parse the model
again on every build.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from evalhouse.raw_tables import ensure_schema_shards

# what evalhouse build passes to marts.builds
PASSED = ("EVALHOUSE_PROJECT_FINGERPRINT", "EVALHOUSE_INPUT_FINGERPRINTS")


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        # read here, not passed in the profile: a profile that changes makes dbt parse the project again
        data = os.environ.get("EVALHOUSE_DATA", "data").rstrip("/")
        ensure_schema_shards(f"{data}/raw" if "://" in data else Path(data) / "raw")

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        conn.execute("set parquet_metadata_cache = true")

    def configure_cursor(self, cursor: DuckDBPyConnection) -> None:
        # a variable belongs to one connection, and every model runs on a cursor of its own
        for name in PASSED:
            value = os.environ.get(name)
            # a literal, not a bound parameter: binding a Python value makes DuckDB import pandas (0.4 s)
            literal = "null" if value is None else "'" + value.replace("'", "''") + "'"
            cursor.execute(f"set variable {name.lower()} = {literal}")
