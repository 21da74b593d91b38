"""The API key never reaches a file or the output: shards, journal, run manifest, logs, warehouse, dbt files."""

from __future__ import annotations

import os
import subprocess

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from .collector_kit import CLI, MODELS, endpoint

pytestmark = pytest.mark.slow

FAKE_KEY = "sk-or-v1-FAKE-e1d3c0ffee5ecre7-never-store-me-0123456789abcdef0123456789abcdef"
OTHER_KEY = "sk-or-v1-WRONG-badc0ffee-also-never-store-me-0123456789abcdef"


def _texts(path) -> list[bytes]:
    """What a file says, decoded where its bytes are compressed: Parquet cells, warehouse cells, raw bytes."""
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        return [str(column.to_pylist()).encode() for column in table.columns]
    if path.suffix == ".duckdb" or path.name.endswith(".duckdb.building"):
        con = duckdb.connect(str(path), read_only=True)
        try:
            cells = []
            for schema, table in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall():
                rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
                cells.append(str(rows).encode())
            return cells + [path.read_bytes()]
        finally:
            con.close()
    return [path.read_bytes()]


def _files_holding(root, secrets) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            texts = _texts(path)
            hits += [f"{path} holds {s[:12]}…" for s in secrets if any(s.encode() in t for t in texts)]
    return hits


def test_the_search_finds_a_key_inside_compressed_files(tmp_path):
    """The search reads Parquet and DuckDB cells, so a key in a compressed column would be found."""
    key = "sk-or-v1-" + "k" * 40
    pq.write_table(pa.table({"error": [f"Invalid key {key}"] * 1000}), tmp_path / "x.parquet", compression="zstd")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create table t as select 'Bearer ' || ? || i::varchar as h from range(100000) r(i)", [key])
    con.close()
    assert len(_files_holding(tmp_path, [key])) == 2


def test_a_known_fake_key_appears_in_no_file_and_no_output(workdir, tmp_path):
    """A collection (with faults, error rows and a rejected key that the provider echoes) and a build
    leave the key in no file under the working folder and in nothing printed."""
    env = {
        **os.environ,
        "EVALHOUSE_DATA": str(workdir.data),
        "EVALHOUSE_WAREHOUSE": str(workdir.warehouse),
        "EVALHOUSE_API_KEY": FAKE_KEY,
    }
    outputs = []
    run = [
        "ingest",
        "run",
        "--model",
        MODELS[0],
        "--kinds",
        "add,lcs",
        "--digits",
        "2",
        "--n",
        "4",
        "--seeds",
        "0",
        "--max-attempts",
        "2",
        "--timeout",
        "0.5",
        "--progress",
    ]
    with endpoint(
        workdir, expect_key=FAKE_KEY, faults={"500": 0.3, "429": 0.1, "reset": 0.1, "error200": 0.1}, retry_after="0"
    ) as server:
        good = subprocess.run([*CLI, *run, "--base-url", server.url], env=env, capture_output=True, text=True)
        assert good.returncode == 0, good.stderr
        assert f"Bearer {FAKE_KEY}" in server.auth_headers  # the key was really used
        rejected = subprocess.run(
            [*CLI, *run, "--base-url", server.url, "--no-resume"],
            env={**env, "EVALHOUSE_API_KEY": OTHER_KEY},
            capture_output=True,
            text=True,
        )
        assert (
            rejected.returncode == 1 and "Error: pre-flight: the endpoint refused the key (HTTP 401" in rejected.stderr
        )
        unchecked = subprocess.run(
            [*CLI, *run, "--base-url", server.url, "--no-resume", "--no-preflight"],
            env={**env, "EVALHOUSE_API_KEY": OTHER_KEY},
            capture_output=True,
            text=True,
        )
        assert unchecked.returncode == 1 and "Error: the endpoint refused the run (HTTP 401" in unchecked.stderr
        outputs += [good.stdout, good.stderr, rejected.stdout, rejected.stderr, unchecked.stdout, unchecked.stderr]
    assert "error rows" in good.stdout and "[redacted]" in rejected.stderr and "[redacted]" in unchecked.stderr
    build = subprocess.run([*CLI, "build"], env=env, capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    outputs += [build.stdout, build.stderr]

    written = list(workdir.data.rglob("*.parquet")) + list(workdir.data.rglob("*.log"))
    assert written and workdir.warehouse.exists() and list(workdir.data.rglob("run.json"))
    for text in outputs:
        assert FAKE_KEY not in text and OTHER_KEY not in text
    assert _files_holding(workdir.data.parent, [FAKE_KEY, OTHER_KEY]) == []
