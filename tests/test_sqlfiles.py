"""SQL kept in .sql files (evalhouse.sqlfiles): names only through a whitelist, values only as bind parameters."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from evalhouse.config import Paths
from evalhouse.ingest.importers import Options, import_paths, jsonl_fast, res_jsonl
from evalhouse.ingest.importers.statements import SQL as IMPORT_SQL
from evalhouse.sqlfiles import ident, name

from .conftest import REPO, SHARED

SCREENING = SHARED / "realdata" / "toolproj" / "src" / "exps_performance" / "previous_results" / "screening"
RUN = SCREENING / "claude-opus-4_seed0" / "tb" / "run_20260110_115601" / "res.jsonl"


def test_names_outside_the_whitelist_are_refused():
    """ident and name quote plain names and refuse anything that could end a quote or a statement."""
    assert ident("code", "status") == '"code_status"' and name("nl") == "'nl'"
    for bad in ('a"b', "a'b", "a; drop table x", "", "1abc", "a b", "a--"):
        with pytest.raises(ValueError, match="not a plain SQL name"):
            ident(bad)
        with pytest.raises(ValueError, match="not a plain SQL name"):
            name(bad)


def test_every_importer_statement_renders_and_parses():
    """Each sql/*.sql file renders with what its caller passes and DuckDB parses every statement in it."""
    contexts = {
        "res_jsonl.sql": [{"validate": v, **res_jsonl.RECORD_KEYS} for v in (False, True)],
        "jsonl_fast.sql": [jsonl_fast.RECORD_KEYS],
        "prepare.sql": [{"response_id": "1"}],
        "drop.sql": [{"tables": ("checks", "identity")}],
        "copy_table.sql": [{"table": "files", "source": "batch_files"}],
    }
    con = duckdb.connect()
    files = sorted((REPO / "ingest" / "importers" / "sql").glob("[!_]*.sql"))
    assert len(files) >= 20
    for path in files:
        for context in contexts.get(path.name, [{}]):
            statements = con.extract_statements(IMPORT_SQL(path.name, **context))
            assert statements, path.name


def test_quotes_in_file_and_folder_names_reach_duckdb_as_values(tmp_path):
    """A data folder and a source file whose names hold quotes import, and import again as unchanged."""
    source = tmp_path / 'it\'s "here"' / "run_20260110_115601" / "res.jsonl"
    source.parent.mkdir(parents=True)
    shutil.copy(RUN, source)
    paths = Paths(data=tmp_path / "o'brien's data", warehouse=tmp_path / "w.duckdb")
    first = import_paths([source.parent], paths, Options(progress=False))
    rows = sum(1 for line in RUN.read_text().splitlines() if line.strip())
    assert first.reconciles and first.total("rows_loaded") == rows and not first.refused
    assert all(Path(run).exists() for run in first.files[0].runs)
    again = import_paths([source.parent], paths, Options(progress=False))
    assert again.unchanged == [source] and not again.files
