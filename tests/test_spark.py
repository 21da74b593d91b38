"""The same dbt models on Spark: both targets built over the same shards agree, mart by mart, row by row.

One Spark session (local, in this process) serves the whole module. Select these tests with `-m spark`.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from evalhouse.build import build
from evalhouse.cli import main
from evalhouse.config import Paths
from evalhouse.ingest.importers import Options, import_paths
from evalhouse.ingest.metrics import load_metrics

from .conftest import REPO, SHARED
from .project import paths_in, selected
from .warehouse_data import response, write_responses

sys.path.insert(0, str(REPO / "bench"))
import gen_shards

pytestmark = [
    pytest.mark.spark,
    pytest.mark.slow,
    # pyspark's collect() leaves its result socket for the garbage collector to close, by design
    # (pyspark/rdd.py, _load_from_socket): that warning is pyspark's, and only the Spark tests collect
    pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning"),
]

SCREENING = SHARED / "realdata" / "toolproj" / "src" / "exps_performance" / "previous_results" / "screening"
# Figures that are not sums of integers: where the two engines may add the same doubles in another order.
# The macro average of per-model accuracies (Spark has no ordered aggregate) and the interpolated latency
# quantiles and mean (Spark's percentile and decimal division round in their own way).
FLOAT_TOLERANT = {
    "accuracy_macro",
    "accuracy_reported_macro",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "latency_mean_ms",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A few thousand generated responses, exact ties, a legacy import with a bad line and a metrics
    file, built by DuckDB and by Spark."""
    root = tmp_path_factory.mktemp("spark")
    with selected(paths_in(root)) as p, pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVALHOUSE_THREADS", "4")
        gen_shards.write(p.data, 3000, shard_rows=1000, append_pct=0, threads=2, memory="1GB")
        _write_ties(p)
        _import_legacy(p, root)
        metrics = root / "metrics.csv"
        metrics.write_text("model,lab,hubris,params_b\nopenai/gpt-4o-mini,OpenAI,0.4,\nacme/unknown,,0.7,12\n")
        load_metrics(metrics, p.metrics)
        build(p)
        result = CliRunner().invoke(main, ["build", "--target", "spark"])
        assert result.exit_code == 0, result.output
        yield p, result.output


def _write_ties(p: Paths) -> None:
    """Two attempts of each response that agree on everything the dedup orders by but the shard: the
    shard key (a hash of the path below raw/) decides, and must decide the same on both engines."""
    for run, answer in (("tie-a", "41"), ("tie-b", "42")):
        rows = [response(f"tie-{i}", f"tie-p{i}", minutes=5, parsed_answer=answer) for i in range(6)]
        write_responses(p, rows, run=run)


def _import_legacy(p: Paths, root: Path) -> None:
    """Three small legacy result files, and one whose last line is torn (it goes to the quarantine)."""
    files = sorted(SCREENING.rglob("res.jsonl"))[:3]
    import_paths(files, p, Options(progress=False))
    records = [json.loads(line) for line in files[0].read_text(encoding="utf-8").splitlines()][:2]
    for record in records:
        record.update(model="acme/legacy-model", exp_id="run_20260301_000000")
    bad = root / "incoming" / "res.jsonl"
    bad.parent.mkdir()
    bad.write_text("\n".join(json.dumps(r) for r in records) + '\n{"model": "x", "kind": ', encoding="utf-8")
    import_paths([bad], p, Options(progress=False))


def _spark():
    from pyspark.sql import SparkSession

    return SparkSession.builder.getOrCreate()


def _tables(p: Paths, schema: str) -> list[str]:
    con = duckdb.connect(str(p.warehouse), read_only=True)
    try:
        return [
            t
            for (t,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = ? order by 1", [schema]
            ).fetchall()
        ]
    finally:
        con.close()


def _duckdb_rows(p: Paths, table: str, columns: list[str]) -> list[tuple]:
    con = duckdb.connect(str(p.warehouse), read_only=True)
    try:
        return con.execute(f"select {', '.join(columns)} from {table}").fetchall()
    finally:
        con.close()


def _spark_rows(table: str, columns: list[str]) -> list[tuple]:
    return [tuple(row) for row in _spark().table(table).select(*columns).collect()]


def _normal(value):
    """Timestamps as UTC instants (DuckDB's timestamptz and Spark's session-zone timestamp), the rest as is."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc) if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return value


def _sort_key(row: tuple) -> tuple:
    return tuple((v is None, str(type(v)), v if v is not None else 0) for v in row)


def _compare(p: Paths, table: str, ignore: set[str] = frozenset()) -> tuple[int, list[str]]:
    schema, name = table.split(".")
    con = duckdb.connect(str(p.warehouse), read_only=True)
    columns = [
        c
        for (c,) in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ? order by column_index",
            [schema, name],
        ).fetchall()
        if c not in ignore
    ]
    con.close()
    ours = sorted((tuple(map(_normal, r)) for r in _duckdb_rows(p, table, columns)), key=_sort_key)
    theirs = sorted((tuple(map(_normal, r)) for r in _spark_rows(table, columns)), key=_sort_key)
    problems = [] if len(ours) == len(theirs) else [f"{len(ours)} rows on DuckDB, {len(theirs)} on Spark"]
    for a, b in zip(ours, theirs):
        for column, x, y in zip(columns, a, b):
            close = (
                column in FLOAT_TOLERANT
                and isinstance(x, float)
                and isinstance(y, float)
                and math.isclose(x, y, rel_tol=1e-12)
            )
            if x != y and not close:
                problems.append(f"{column}: {x!r} (DuckDB) != {y!r} (Spark) in {a}")
    return len(ours), problems[:5]


def test_every_mart_identical_on_both_engines(built):
    """Every mart built by Spark holds the same rows as DuckDB's (floats compared exactly but where summed in another order)."""
    p, _ = built
    marts = [t for t in _tables(p, "marts") if t != "builds"]
    assert {"acc_model_arm_kind", "acc_lab_arm_kind", "code_nl_delta", "run_health", "quarantine"} <= set(marts)
    counts, problems = {}, {}
    for mart in marts:
        counts[mart], problems[mart] = _compare(p, f"marts.{mart}")
    assert {m: d for m, d in problems.items() if d} == {}
    # every mart has rows to compare: the data reaches imports, disagreements, metrics and the quarantine
    assert {m: n for m, n in counts.items() if n == 0} == {}


def test_graded_and_staging_tables_identical(built):
    """graded_responses (one verdict per response, shard pointers included), the winning attempts, the labs
    and the staging tables agree too (the build that wrote a row is each engine's own)."""
    p, _ = built
    for table, ignore in (
        ("graded.graded_responses", {"graded_in_build"}),  # each build's own id
        ("graded.int_responses_latest", {"chosen_in_build"}),
        ("graded.int_models", set()),
        ("staging.stg_problems", set()),
        ("staging.stg_metrics", set()),
        ("staging.stg_quarantine", set()),
    ):
        n, problems = _compare(p, table, ignore)
        assert problems == [], table
        assert n > 0, table


def test_exact_ties_broken_the_same_way(built):
    """Attempts equal in every ordering column but their shard resolve to the same winner on both engines."""
    p, _ = built
    sql = "select response_id, answer, shard_id from graded.graded_responses where response_id like 'tie-%'"
    ours = sorted(duckdb.connect(str(p.warehouse), read_only=True).execute(sql).fetchall())
    theirs = sorted(tuple(r) for r in _spark().sql(sql).collect())
    assert len(ours) == 6
    assert ours == theirs
    # and it is the later shard in the dedup order (the larger key), not whichever was read first
    keys = dict(
        duckdb.connect(str(p.warehouse), read_only=True)
        .execute(
            "select regexp_extract(file, 'run_id=(tie-[ab])', 1), shard_id from staging.stg_shards where file like '%tie-%'"
        )
        .fetchall()
    )
    assert {answer for _, answer, _ in ours} == {"41" if keys["tie-a"] > keys["tie-b"] else "42"}


def test_spark_build_runs_the_data_tests(built):
    """The dbt data and unit tests run on Spark as on DuckDB (a failing one would fail the build)."""
    p, output = built
    assert f"built {p.warehouse.parent / 'spark'}" in output
    log = (p.warehouse.parent / "spark" / ".dbt" / "logs" / "dbt.log").read_text()
    run = log.split("Running with dbt")[-1]
    for check in (
        "grain_graded_responses_response_id",
        "int_responses_latest::int_responses_latest_keeps_one_winner_per_response",
        "graded_responses::graded_responses_verdict_rules",
        "grain_acc_model_arm_kind_model",
    ):
        assert f"PASS {check}" in run, check


def test_spark_tables_are_parquet_under_the_spark_warehouse(built):
    """Spark's tables are Parquet folders beside the DuckDB file; its metastore lives there too, not in the working folder."""
    p, _ = built
    spark = p.warehouse.parent / "spark"
    assert list((spark / "marts.db" / "acc_model_arm_kind").glob("*.parquet"))
    assert (spark / "metastore" / "metastore_db").is_dir()
    assert not (REPO / "metastore_db").exists()
    assert _spark().conf.get("spark.sql.shuffle.partitions") == "4"
