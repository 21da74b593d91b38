"""Shards on S3-compatible object storage (EVALHOUSE_DATA=s3://bucket/prefix), against a moto server on 127.0.0.1."""
from __future__ import annotations

import pytest

from evalhouse.build import build
from evalhouse.config import Paths, paths
from evalhouse.ingest.shards import RESPONSE_SCHEMA, table_from_rows, write_atomic
from evalhouse.ingest.store import problems_schema

from .warehouse_data import differences, failed, query, response

pytestmark = pytest.mark.slow

BUCKET = "evals"


@pytest.fixture
def s3(monkeypatch):
    """A moto S3 server on a free loopback port, reached through the standard AWS variables."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
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
        response("r1", "p1"), response("r2", "p2", parsed_answer="7"),
        failed("r3", "p1", arm="sim"), response("r3", "p1", arm="sim", minutes=3),
        response("r4", "p2", arm="code", parsed_answer=None, response_text='{"answer": 5}'),
    ]


def _problems() -> list[dict]:
    return [{"problem_id": pid, "kind": "add", "digit": 2, "index": i, "question": f"q {pid}", "gold_answer": gold,
             "instance_json": "{}", "problem_seed": 0, "generator_version": "g1"}
            for i, (pid, gold) in enumerate({"p1": "42", "p2": "5"}.items())]


def _write(root: str | object) -> None:
    """The same shards and problem file, written by the project's shard writer under `root`."""
    write_atomic(table_from_rows(_responses(), RESPONSE_SCHEMA), f"{root}/raw/responses/source=collector/run_id=run-1", "part-0")
    write_atomic(table_from_rows(_problems(), problems_schema()), f"{root}/raw/problems", "problems-0")


def test_shard_writer_puts_shards_in_the_bucket(s3):
    """write_atomic given an s3:// folder writes one complete object there (no temporary object left)."""
    _write(f"s3://{BUCKET}/lab")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == ["lab/raw/problems/problems-0.parquet", "lab/raw/responses/source=collector/run_id=run-1/part-0.parquet"]


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
        ("r1", "correct"), ("r2", "wrong"), ("r3", "correct"), ("r4", "correct")]
    diff = differences(local.warehouse, remote.warehouse)
    # the load log names the files where they are; every other table is identical, shard keys included
    assert {t: n for t, n in diff.items() if n and t != "staging.stg_shards"} == {}
