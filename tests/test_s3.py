"""Shards on S3-compatible object storage (EVALHOUSE_DATA=s3://bucket/prefix), against a moto server on 127.0.0.1."""

from __future__ import annotations

import json
import urllib.request

import pyarrow.parquet as pq
import pytest

from evalhouse.build import build
from evalhouse.config import Paths, paths
from evalhouse.ingest.collector import collect
from evalhouse.ingest.journal import recover
from evalhouse.ingest.shards import RESPONSE_SCHEMA, ShardWriter, table_from_rows, write_shard
from evalhouse.ingest.store import load_state, problems_schema

from .collector_kit import endpoint, fast_config
from .warehouse_data import differences, failed, query, response

pytestmark = pytest.mark.slow

BUCKET = "evals"


@pytest.fixture
def s3(monkeypatch):
    """A moto S3 server on a free loopback port, reached through the standard AWS variables."""
    import s3fs
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    # moto keeps its buckets per process, not per server: start each test from an empty store; and fsspec
    # keeps s3fs instances per process, each bound to the endpoint (port) it was made for
    s3fs.S3FileSystem.clear_instance_cache()
    urllib.request.urlopen(urllib.request.Request(f"http://{host}:{port}/moto-api/reset", method="POST")).close()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://{host}:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    import boto3

    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    yield client
    server.stop()


def _responses() -> list[dict]:
    return [
        response("r1", "p1"),
        response("r2", "p2", parsed_answer="7"),
        failed("r3", "p1", arm="sim"),
        response("r3", "p1", arm="sim", minutes=3),
        response("r4", "p2", arm="code", parsed_answer=None, response_text='{"answer": 5}'),
    ]


def _problems() -> list[dict]:
    return [
        {
            "problem_id": pid,
            "kind": "add",
            "digit": 2,
            "index": i,
            "question": f"q {pid}",
            "gold_answer": gold,
            "instance_json": "{}",
            "problem_seed": 0,
            "generator_version": "g1",
        }
        for i, (pid, gold) in enumerate({"p1": "42", "p2": "5"}.items())
    ]


def _write(root: str | object) -> None:
    """The same shards and problem file, written by the project's shard writer under `root`."""
    write_shard(
        table_from_rows(_responses(), RESPONSE_SCHEMA), f"{root}/raw/responses/source=collector/run_id=run-1", "part-0"
    )
    write_shard(table_from_rows(_problems(), problems_schema()), f"{root}/raw/problems", "problems-0")


def test_shard_writer_puts_shards_in_the_bucket(s3):
    """write_shard given an s3:// folder writes one complete object there (no temporary object left)."""
    _write(f"s3://{BUCKET}/lab")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == [
        "lab/raw/problems/problems-0.parquet",
        "lab/raw/responses/source=collector/run_id=run-1/part-0.parquet",
    ]


def test_build_reads_shards_from_object_storage(s3, tmp_path, monkeypatch):
    """`evalhouse build` with EVALHOUSE_DATA=s3://… reads the bucket and gives the same warehouse as the same shards on disk."""
    _write(f"s3://{BUCKET}/lab")
    local = Paths(data=tmp_path / "data", warehouse=tmp_path / "local" / "evalhouse.duckdb")
    _write(str(local.data))
    build(local)

    monkeypatch.setenv("EVALHOUSE_DATA", f"s3://{BUCKET}/lab")
    monkeypatch.setenv("EVALHOUSE_WAREHOUSE", str(tmp_path / "remote" / "evalhouse.duckdb"))
    remote = paths()
    assert remote.data_uri == f"s3://{BUCKET}/lab"
    result = build(remote)
    assert result.mode == "full"

    files = query(remote.warehouse, "select file from staging.stg_shards")
    assert files == [(f"s3://{BUCKET}/lab/raw/responses/source=collector/run_id=run-1/part-0.parquet",)]
    assert query(remote.warehouse, "select response_id, verdict from graded.graded_responses order by 1") == [
        ("r1", "correct"),
        ("r2", "wrong"),
        ("r3", "correct"),
        ("r4", "correct"),
    ]
    diff = differences(local.warehouse, remote.warehouse)
    # the load log and the winners' pointers name the files where they are; every other table is
    # identical, shard keys included
    named = {"staging.stg_shards", "graded.int_responses_latest"}
    assert {t: n for t, n in diff.items() if n and t not in named} == {}


def _keys(s3, prefix: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []))


def _in_bucket(tmp_path, monkeypatch) -> Paths:
    """EVALHOUSE_DATA names the bucket; the local data folder (journal, manifests, logs) is under tmp_path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EVALHOUSE_DATA", f"s3://{BUCKET}/lab")
    monkeypatch.setenv("EVALHOUSE_WAREHOUSE", str(tmp_path / "remote" / "evalhouse.duckdb"))
    return paths()


def test_collect_publishes_shards_to_the_bucket_resumes_from_it_and_builds_as_a_local_collect(
    s3, tmp_path, monkeypatch
):
    """`ingest run` to s3:// puts its shards and problems in the bucket, a rerun asks nothing, and the marts match a local collect."""
    local = Paths(data=tmp_path / "local" / "data", warehouse=tmp_path / "local" / "evalhouse.duckdb")
    with endpoint(local) as server:
        spec = dict(arms=["nl", "sim", "controlsim", "code"], n=3, checkpoint_every=5)
        _, here = collect(fast_config(server.url, **spec), local, None, run_id="run-1")
        remote = _in_bucket(tmp_path, monkeypatch)
        _, first = collect(fast_config(server.url, **spec), remote, None, run_id="run-1")
        _, second = collect(fast_config(server.url, **spec), remote, None, run_id="run-2")

    assert first.done == here.done == 12 and first.requests > 0
    assert (second.done, second.requests, second.skipped) == (0, 0, 12)
    shards = _keys(s3, "lab/raw/responses/")
    # a checkpoint every 5 responses, unless the previous shard is still uploading (the writer never waits
    # for it): 2 or 3 shards for 12 responses, numbered in order
    assert 2 <= len(shards) <= 3
    assert shards == [
        f"lab/raw/responses/source=collector/run_id=run-1/part-00000{i}.parquet" for i in range(len(shards))
    ]
    assert len(_keys(s3, "lab/raw/problems/")) == 1
    run = remote.responses / "source=collector" / "run_id=run-1"
    assert sorted(p.name for p in run.iterdir()) == ["run.json"]  # the manifest stays local; no shard, no journal
    assert json.loads((run / "run.json").read_text())["status"] == "done"
    assert not (remote.data / "raw" / "problems").exists()

    build(local)
    build(remote)
    marts = {t: n for t, n in differences(local.warehouse, remote.warehouse).items() if t.startswith("marts.")}
    assert len(marts) > 5 and {t for t, n in marts.items() if n} <= {"marts.run_health"}  # latencies are measured
    health = (
        "select * exclude (latency_p50_ms, latency_p95_ms, latency_p99_ms, latency_mean_ms) "
        "from marts.run_health order by model, arm"
    )
    assert query(remote.warehouse, health) == query(local.warehouse, health)
    assert query(remote.warehouse, "select count(*) from graded.graded_responses") == [(12,)]


def test_killed_run_is_recovered_into_the_bucket_once(s3, tmp_path, monkeypatch):
    """A dead run's local journal segment becomes its shard in the bucket, once; the next writer numbers after it."""
    remote = _in_bucket(tmp_path, monkeypatch)
    run = remote.responses / "source=collector" / "run_id=run-x"
    run.mkdir(parents=True)
    rows = [{**response(f"r{i}", f"p{i}"), "run_id": "run-x", "created_at": 1_700_000_000_000_000} for i in range(3)]
    (run / ".journal-000002.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    def write(rows, folder, stem):
        write_shard(table_from_rows(rows, RESPONSE_SCHEMA), folder, stem)

    assert recover(remote.responses / "source=collector", write, remote.stored) == 3
    assert not list(run.iterdir())
    (run / ".journal-000002.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert recover(remote.responses / "source=collector", write, remote.stored) == 0  # its shard is there: only removed
    assert not list(run.iterdir())
    assert load_state(remote.stored(remote.responses)).ok == {"r0", "r1", "r2"}

    with ShardWriter(run, every=1, journal=True, target=remote.stored(run)) as writer:
        writer.add({**response("r9", "p9"), "run_id": "run-x", "created_at": 1_700_000_000_000_000})
    assert _keys(s3, "lab/raw/responses/") == [
        f"lab/raw/responses/source=collector/run_id=run-x/part-00000{i}.parquet" for i in (2, 3)
    ]


def test_unreachable_bucket_is_one_error_line(s3, tmp_path, monkeypatch):
    """`ingest run` into a bucket that does not exist fails with one `Error:` line naming it, and sends nothing;
    `status` says so in one line too."""
    from click.testing import CliRunner

    from evalhouse.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EVALHOUSE_DATA", "s3://no-such-bucket/lab")
    result = CliRunner().invoke(
        main,
        [
            "ingest",
            "run",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--model",
            "synthetic/x",
            "--kinds",
            "add",
            "--digits",
            "2",
            "--n",
            "1",
            "--no-progress",
            "--no-preflight",
        ],
    )
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: object storage s3://no-such-bucket/lab/raw/")
    assert "no such bucket 'no-such-bucket'" in result.output and len(result.output.strip().splitlines()) == 1
    status = CliRunner().invoke(main, ["status"])
    assert status.exit_code == 1 and len(status.output.strip().splitlines()) == 1, status.output
    assert status.output.startswith("Error: cannot read the shards under s3://no-such-bucket/lab/raw/responses")


def test_status_reads_the_bucket_as_it_reads_a_local_folder(s3, tmp_path, monkeypatch):
    """`evalhouse status` with EVALHOUSE_DATA=s3://… counts the bucket's shards as it counts the same shards on
    disk, and sees objects written after the last build."""
    import os

    from evalhouse.ops.status import status

    _write(f"s3://{BUCKET}/lab")
    local = Paths(data=tmp_path / "local" / "data", warehouse=tmp_path / "local" / "evalhouse.duckdb")
    _write(str(local.data))
    here = status(local, tmp_path / "experiments")
    remote = _in_bucket(tmp_path, monkeypatch)
    there = status(remote, tmp_path / "experiments")

    assert there.responses["path"] == f"s3://{BUCKET}/lab/raw/responses"
    assert {k: v for k, v in there.responses.items() if k != "path"} == {
        k: v for k, v in here.responses.items() if k != "path"
    }
    assert (there.responses["files"], there.responses["answered"]) == (1, 4)
    assert (there.runs, there.models, there.failed) == (here.runs, here.models, here.failed)

    build(remote)
    # the store keeps whole seconds: date the build 2 s back, so an object written right after it is later
    os.utime(remote.warehouse, (remote.warehouse.stat().st_atime, remote.warehouse.stat().st_mtime - 2))
    assert status(remote, tmp_path / "experiments").warehouse["shards_newer_than_build"] == 0
    write_shard(
        table_from_rows([response("r9", "p1")], RESPONSE_SCHEMA),
        f"s3://{BUCKET}/lab/raw/responses/source=collector/run_id=run-2",
        "part-0",
    )
    later = status(remote, tmp_path / "experiments")
    assert later.warehouse["shards_newer_than_build"] == 1 and later.responses["files"] == 2


def test_metrics_and_problems_load_into_the_bucket_and_reach_the_warehouse(s3, tmp_path, monkeypatch):
    """`ingest metrics` and `problems generate` with EVALHOUSE_DATA=s3://… put their shards in the bucket (a
    --out copy stays local), and a build from the bucket reads them."""
    from click.testing import CliRunner

    from evalhouse.cli import main
    from evalhouse.config import SOURCE_ROOT

    _write(f"s3://{BUCKET}/lab")
    remote = _in_bucket(tmp_path, monkeypatch)
    result = CliRunner().invoke(main, ["ingest", "metrics", str(SOURCE_ROOT / "examples" / "hubris_models.csv")])
    assert result.exit_code == 0, result.output
    keys = _keys(s3, "lab/raw/metrics/")
    assert len(keys) == 1 and f"shard: s3://{BUCKET}/{keys[0]}" in result.output
    assert not remote.metrics.exists()
    generated = CliRunner().invoke(
        main,
        [
            "problems",
            "generate",
            "--kinds",
            "mul",
            "--digits",
            "3",
            "--n",
            "4",
            "--out",
            str(tmp_path / "copy.parquet"),
        ],
    )
    assert generated.exit_code == 0, generated.output
    assert len(_keys(s3, "lab/raw/problems/")) == 2 and not remote.problems.exists()
    assert pq.read_table(tmp_path / "copy.parquet").num_rows == 4
    build(remote)
    n, models = query(remote.warehouse, "select count(*), count(distinct model) from marts.model_metrics")[0]
    assert n > 0 and models > 5
    assert query(remote.warehouse, "select count(*) from staging.stg_problems where kind = 'mul'") == [(4,)]


def test_import_repeats_its_changes_in_the_bucket(s3, tmp_path, monkeypatch):
    """`ingest import` with EVALHOUSE_DATA=s3://… imports in the local data folder and repeats exactly its
    changes in the bucket: new shards uploaded, a run's newer copy replacing the older, an emptied
    quarantine shard deleted, other objects left alone; a build from the bucket sees the same responses."""
    from click.testing import CliRunner

    from evalhouse.cli import main

    from .test_import_bad_input import SCREENING

    lines = SCREENING.read_text(encoding="utf-8").splitlines()[:6]
    source = tmp_path / "results" / "run_20260101_000000" / "res.jsonl"
    source.parent.mkdir(parents=True)
    source.write_text("\n".join(lines[:5] + ["{not json"]) + "\n", encoding="utf-8")
    _write(f"s3://{BUCKET}/lab")  # a collector's shard and problems already in the bucket
    remote = _in_bucket(tmp_path, monkeypatch)

    first = CliRunner().invoke(main, ["ingest", "import", str(source), "--no-progress"])
    assert first.exit_code == 0, first.output
    local = sorted(p.relative_to(remote.raw).as_posix() for p in remote.raw.rglob("*.parquet"))
    assert any(p.startswith("quarantine/") for p in local) and any(p.startswith("responses/") for p in local)
    assert f"bucket: {len(local)} object(s) written to s3://{BUCKET}/lab/raw, 0 deleted" in first.output
    assert set(_keys(s3, "lab/raw/")) == {f"lab/raw/{p}" for p in local} | {
        "lab/raw/responses/source=collector/run_id=run-1/part-0.parquet",
        "lab/raw/problems/problems-0.parquet",
    }

    again = CliRunner().invoke(main, ["ingest", "import", str(source), "--no-progress"])
    assert "bucket: 0 object(s) written" in again.output  # nothing changed, nothing sent

    source.write_text("\n".join(lines) + "\n", encoding="utf-8")  # the fixed file: a newer copy of the run
    fixed = CliRunner().invoke(main, ["ingest", "import", str(source), "--no-progress"])
    assert fixed.exit_code == 0, fixed.output
    assert "1 deleted" in fixed.output
    # (pyarrow leaves an empty folder marker, ending in /, where it deleted the folder's last object)
    assert not [k for k in _keys(s3, "lab/raw/quarantine/") if not k.endswith("/")]
    build(remote)
    imported = sum(pq.read_metadata(p).num_rows for p in remote.responses.rglob("*.parquet"))
    assert imported > 6
    assert query(remote.warehouse, "select count(*) from graded.graded_responses where source <> 'collector'") == [
        (imported,)
    ]
    assert query(remote.warehouse, "select count(*) from marts.quarantine") == [(0,)]
