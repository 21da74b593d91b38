"""`evalhouse regrade` on a shard written by another tool: which rows it reads again, what it writes."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from evalhouse.ingest.answers import ANSWER_SCHEMA, EXTRACTOR_VERSION
from evalhouse.ingest.answers.reread import regrade


def _shard(raw, rows: list[dict], null_typed: tuple[str, ...] = ()) -> str:
    """A response shard as another tool writes it: no extractor version, some columns typed null."""
    names = dict.fromkeys(name for row in rows for name in row)
    columns = {name: [row.get(name) for row in rows] for name in names}
    arrays = {name: pa.nulls(len(rows)) if name in null_typed else pa.array(v) for name, v in columns.items()}
    path = raw / "responses" / "other-tool" / "part-0.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.table(arrays), path)
    return "responses/other-tool/part-0.parquet"


def _row(rid: str, text: str | None, **extra) -> dict:
    return {"response_id": rid, "problem_id": "p", "kind": "add", "arm": "nl", "response_text": text} | extra


def test_regrade_reads_only_unread_replies_and_writes_them_beside_the_shard(tmp_path):
    raw = tmp_path / "raw"
    rows = [
        _row("r0", '{"answer": 12}', error=None, verdict=None),
        _row("r1", None, error="HTTP 429", verdict=None),  # a failed request has no reply to read
        _row("r2", "no json at all", error=None, verdict="not_run"),  # an arm that never ran
        _row("r3", '{"answer": "1,024"}', error=None, verdict=None),
    ]
    relative = _shard(raw, rows, null_typed=("parsed_answer", "parse_error", "exec_status"))

    summary = regrade(raw)

    assert (summary.shards, summary.read, summary.rows) == (1, 1, 2)
    written = pq.read_table(raw / "answers" / relative)
    assert written.schema.equals(ANSWER_SCHEMA)
    assert written.to_pylist() == [
        {
            "shard": relative,
            "shard_row": 0,
            "response_id": "r0",
            "parsed_answer": "12",
            "parse_error": None,
            "verdict": None,
            "verdict_reason": None,
            "extractor_version": EXTRACTOR_VERSION,
        },
        {
            "shard": relative,
            "shard_row": 3,
            "response_id": "r3",
            "parsed_answer": "1024",
            "parse_error": None,
            "verdict": None,
            "verdict_reason": None,
            "extractor_version": EXTRACTOR_VERSION,
        },
    ]
    again = regrade(raw)  # the answers file matches the shard as it is: nothing is read twice
    assert (again.up_to_date, again.read, again.rows) == (1, 0, 0)


def test_rows_read_by_this_version_or_kept_as_the_source_graded_them_are_not_read(tmp_path):
    raw = tmp_path / "raw"
    rows = [
        _row("r0", '{"answer": 5}', parsed_answer="5", extractor_version=EXTRACTOR_VERSION),
        _row("r1", '{"answer": 6}', parsed_answer=None, verdict_reason="source_verdict_only"),
        _row("r2", '{"answer": 7}', parsed_answer="7", extractor_version="a0"),  # an older reader
    ]
    relative = _shard(raw, rows)

    assert regrade(raw).rows == 1
    assert pq.read_table(raw / "answers" / relative).column("response_id").to_pylist() == ["r2"]
