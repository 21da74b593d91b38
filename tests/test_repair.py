"""`evalhouse repair`: an unreadable shard is set aside, what the journal holds is written again, what is lost
is named, and the next run asks again for exactly the lost responses (real collector, loopback endpoint)."""

from __future__ import annotations

import json
import os
import traceback

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from evalhouse.cli import main
from evalhouse.ingest.journal import Segment

from .collector_kit import MODELS, stored
from .conftest import SHARED
from .project import REPO

pytestmark = pytest.mark.slow

MODEL = MODELS[0]
PLAN = ["--model", MODEL, "--kinds", "add,sub", "--digits", "2", "--n", "10", "--arms", "nl,sim"]
PLANNED = 2 * 10 * 2  # kinds × n × arms
RUN_CSV = SHARED / "realdata/toolproj/src/exps_performance/deepseek2_smoke_again/run_20250924_005007_results_seed_0.csv"
LEGACY_MODEL = "deepseek-ai/deepseek-coder-7b-instruct-v1.5"


def _cli(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), "".join(
        traceback.format_exception(result.exception)
    )
    return result


def _collect(server):
    result = _cli("ingest", "run", "--base-url", server.url, *PLAN, "--checkpoint-every", "7", "--no-progress")
    assert result.exit_code == 0, result.output
    return result


def _shards(workdir) -> list:
    return sorted((workdir.responses / "source=collector").glob("run_id=*/part-*.parquet"))


def _ids(shard) -> list[str]:
    return sorted(pq.read_table(shard, columns=["response_id"]).column(0).to_pylist())


def _truncate(shard) -> None:
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 2])


def _damage_pages(shard, column: str = "response_text") -> None:
    """Scramble one column's compressed pages, leaving the footer and the other columns readable."""
    meta = pq.read_metadata(shard)
    chunk = meta.row_group(0).column(meta.schema.names.index(column))
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    data = bytearray(shard.read_bytes())
    for i in range(start + 20, start + chunk.total_compressed_size - 2):
        data[i] ^= 0x5A
    shard.write_bytes(bytes(data))


def _record(workdir, shard) -> dict:
    moved = workdir.quarantined_shards / shard.relative_to(workdir.data)
    return json.loads(moved.with_name(moved.name + ".json").read_text())


def _one_error(result, *needles: str) -> str:
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert result.exit_code != 0 and len(errors) == 1, result.output
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def _answered(workdir) -> int:
    con = duckdb.connect(str(workdir.warehouse), read_only=True)
    try:
        return con.execute("select coalesce(sum(n_answered), 0) from marts.run_health").fetchone()[0]
    finally:
        con.close()


def test_a_truncated_shard_is_set_aside_and_the_next_run_asks_again_for_exactly_its_responses(workdir, server):
    """Truncated shard: build, status and ingest run stop naming it; repair sets it aside and lists the ids the
    last build knew; then everything works, and the next run sends one request per lost response."""
    _collect(server)
    assert _cli("build").exit_code == 0 and _answered(workdir) == PLANNED
    shards = _shards(workdir)
    assert len(shards) >= 2
    bad = max(shards, key=lambda s: pq.read_metadata(s).num_rows)
    lost = _ids(bad)
    _truncate(bad)

    requests = server.stats["requests"]
    _one_error(_cli("build"), bad.name, "`evalhouse repair`")
    _one_error(_cli("status"), bad.name, "`evalhouse repair`")
    _one_error(_cli("ingest", "run", "--base-url", server.url, *PLAN, "--no-progress"), bad.name, "`evalhouse repair`")
    assert server.stats["requests"] == requests  # refused before any request

    dry = _cli("repair", "--dry-run")
    assert dry.exit_code == 0 and f"would set aside {bad.relative_to(workdir.data)}" in dry.output and bad.exists()

    repaired = _cli("repair", "--quiet")
    assert repaired.exit_code == 0, repaired.output
    out = repaired.output
    assert f"set aside {bad.relative_to(workdir.data)}" in out
    assert f"lost: {len(lost)} of the {len(lost)} response ids known to have been in it" in out
    assert f"{bad.parent.name.removeprefix('run_id=')}: {len(lost)} responses lost" in out
    record = _record(workdir, bad)
    assert record["lost_ids"] == lost and record["rebuilt"] == 0 and "magic bytes" in record["reason"]
    moved = workdir.quarantined_shards / bad.relative_to(workdir.data)
    assert not bad.exists() and moved.exists()
    assert _cli("repair").output.strip().endswith("nothing to repair")

    status = _cli("status")
    assert status.exit_code == 0, status.output
    assert "Set aside (1 unreadable shard(s)" in status.output
    assert f"{moved.relative_to(workdir.data)}" in status.output and f"{len(lost)} responses lost" in status.output
    assert json.loads(_cli("status", "--json").output)["quarantined_shards"][0]["lost_ids"] == lost
    assert _cli("build").exit_code == 0 and _answered(workdir) == PLANNED - len(lost)

    resumed = _collect(server)
    assert server.stats["requests"] - requests == len(lost)
    assert f"stored {len(lost)} of {len(lost)} responses ({len(lost)} requests" in resumed.output
    ids = [r[0] for r in stored(workdir, "response_id")]
    assert len(ids) == len(set(ids)) == PLANNED
    assert set(lost) <= set(ids)
    assert _cli("build").exit_code == 0 and _answered(workdir) == PLANNED


def test_rows_still_journaled_are_written_again_and_nothing_is_asked(workdir, server, monkeypatch):
    """A run that died after writing each shard and before deleting its journal segment: repair writes the
    damaged shard again from its segment, so nothing is lost and the next run asks nothing."""
    with monkeypatch.context() as patched:
        patched.setattr(Segment, "remove", Segment.close)  # every segment outlives its shard
        _collect(server)
    bad = _shards(workdir)[0]
    held = _ids(bad)
    assert (bad.parent / f".journal-{bad.stem.removeprefix('part-')}.jsonl").exists()
    _truncate(bad)

    repaired = _cli("repair", "--quiet")
    assert repaired.exit_code == 0, repaired.output
    assert f"written again from the run's journal: {len(held)} responses" in repaired.output
    assert f"lost: 0 of the {len(held)} response ids" in repaired.output
    assert _ids(bad) == held  # the same shard, whole again
    assert not list(bad.parent.glob(".journal-*"))  # the other segments' shards exist: they are removed
    assert _record(workdir, bad)["rebuilt"] == len(held)

    requests = server.stats["requests"]
    resumed = _collect(server)
    assert server.stats["requests"] == requests and "stored 0 of 0 responses" in resumed.output
    assert len(stored(workdir, "response_id")) == PLANNED


def test_without_a_build_the_ids_come_from_readable_pages_and_the_count_from_the_run(workdir, server):
    """No warehouse: a shard whose answer pages are scrambled names its own ids (its id column reads); a
    truncated one names none, but its run's manifest counts what was lost; the next run asks for both."""
    _collect(server)
    first, second = _shards(workdir)[:2]
    named, unnamed = _ids(first), _ids(second)
    _damage_pages(first)
    _truncate(second)

    repaired = _cli("repair", "--quiet")
    assert repaired.exit_code == 0, repaired.output
    assert f"lost: {len(named)} of the {len(named)} response ids" in repaired.output
    assert "its response ids are not known" in repaired.output
    run = first.parent.name.removeprefix("run_id=")
    assert f"run {run}: {len(named) + len(unnamed)} responses lost" in repaired.output
    assert _record(workdir, first)["lost_ids"] == named and _record(workdir, second)["lost_ids"] == []
    assert "ZSTD" in _record(workdir, first)["reason"]

    requests = server.stats["requests"]
    _collect(server)
    assert server.stats["requests"] - requests == len(named) + len(unnamed)
    ids = [r[0] for r in stored(workdir, "response_id")]
    assert len(ids) == len(set(ids)) == PLANNED


def test_imported_metric_log_and_schema_shards(workdir):
    """An imported shard names the file to import again, a metrics shard what to run, a damaged
    schema.parquet is written again, a damaged import log stops `ingest import` until repaired; after
    re-importing, the warehouse holds what it held."""
    assert _cli("ingest", "import", str(RUN_CSV), "--model", LEGACY_MODEL, "--no-progress").exit_code == 0
    assert _cli("ingest", "metrics", str(REPO / "examples" / "hubris_models.csv")).exit_code == 0
    assert _cli("build").exit_code == 0
    before = _answered(workdir)
    imported = next((workdir.responses / "source=legacy-run-csv").rglob("*.parquet"))
    metrics = next(workdir.metrics.glob("metrics-*.parquet"))
    schema = workdir.problems / "schema.parquet"
    _truncate(imported)
    _truncate(metrics)
    schema.write_bytes(b"PAR1 not a footer")

    repaired = _cli("repair", "--quiet")
    assert repaired.exit_code == 0, repaired.output
    out = repaired.output
    assert ": 3 unreadable" in out.splitlines()[0]
    assert f"import again: `evalhouse ingest import {RUN_CSV.resolve()}`" in out
    assert "load its metrics CSV again: `evalhouse ingest metrics FILE.csv`" in out
    assert f"rewrote {schema.relative_to(workdir.data)} (it holds no rows)" in out
    assert pq.read_schema(schema).names  # readable again
    assert not imported.exists() and not metrics.exists()

    log = next(workdir.imports.glob("*.parquet"))
    _truncate(log)
    _one_error(_cli("ingest", "import", str(RUN_CSV), "--model", LEGACY_MODEL), "import log", "`evalhouse repair`")
    repaired = _cli("repair", "--quiet")
    assert repaired.exit_code == 0 and "only the import log" in repaired.output, repaired.output
    assert set(os.listdir(workdir.quarantined_shards / "raw")) == {"imports", "metrics", "responses"}

    again = _cli("ingest", "import", str(RUN_CSV), "--model", LEGACY_MODEL, "--no-progress")
    assert again.exit_code == 0 and "rows: 1000 read = 1000 loaded" in again.output
    assert _cli("build").exit_code == 0 and _answered(workdir) == before
