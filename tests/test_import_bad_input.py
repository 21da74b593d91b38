"""Bad legacy input: each bad row is quarantined with file, line and reason; the rest loads; counts reconcile."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from evalhouse.cli import main
from evalhouse.ingest.importers import Options, import_paths

from .conftest import SHARED

TOOLPROJ = SHARED / "realdata" / "toolproj" / "src" / "exps_performance"
SCREENING = TOOLPROJ / "previous_results" / "screening" / "qwen3-32b_seed0" / "tb" / "run_20260110_124857" / "res.jsonl"
RES_CSV = (
    TOOLPROJ
    / "previous_results"
    / "old_results"
    / "ministral-14b-2512_seed0"
    / "tb"
    / "run_20251205_185614"
    / "res.csv"
)
RUN_CSV = TOOLPROJ / "deepseek2_smoke_again" / "run_20250924_005007_results_seed_0.csv"


def _records() -> list[dict]:
    return [json.loads(line) for line in SCREENING.read_text(encoding="utf-8").splitlines()]


def _write_jsonl(path: Path, lines: list[str | bytes], end: bytes = b"\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"\n".join(x.encode() if isinstance(x, str) else x for x in lines) + end
    path.write_bytes(data)
    return path


def _run(workdir, *paths: Path, model: str | None = None):
    return import_paths(list(paths), workdir, Options(model=model, progress=False))


def _quarantine(workdir) -> list[tuple]:
    glob = str(workdir.quarantine / "**" / "*.parquet")
    return duckdb.sql(f"select file, line, reason, raw from read_parquet('{glob}') order by file, line").fetchall()


def _responses(workdir, where: str = "true") -> list[tuple]:
    glob = str(workdir.responses / "**" / "*.parquet")
    return duckdb.sql(
        f"select source_line, arm, model, kind from read_parquet('{glob}', union_by_name = true) where {where} order by all"
    ).fetchall()


def _reconciles(summary) -> None:
    t = summary.total
    assert t("rows_read") == t("rows_loaded") + t("rows_quarantined") + t("rows_superseded")
    assert summary.reconciles


def test_truncated_last_line_is_quarantined_the_rest_loads(workdir, tmp_path):
    """A file cut in the middle of its last record: that line is quarantined as truncated, the others load."""
    lines = [json.dumps(r) for r in _records()[:5]]
    path = _write_jsonl(tmp_path / "run_20260101_000000" / "res.jsonl", lines[:4] + [lines[4][:300]], end=b"")
    summary = _run(workdir, path)
    _reconciles(summary)
    assert (summary.total("rows_read"), summary.total("rows_loaded"), summary.total("rows_quarantined")) == (5, 4, 1)
    [(file, line, reason, raw)] = _quarantine(workdir)
    assert file == str(path.resolve()) and line == 5
    assert reason.startswith("truncated last line")
    assert raw == lines[4][:300]
    assert {r[0] for r in _responses(workdir)} == {1, 2, 3, 4}


def test_invalid_utf8_line_is_quarantined_with_its_bytes_shown(workdir, tmp_path):
    """A line whose bytes are not UTF-8 is quarantined (undecodable bytes shown as U+FFFD); the others load."""
    records = _records()[:3]
    bad = json.dumps(records[1]).encode().replace(b"Compute", b"Comp\xff\xfeute", 1)
    path = _write_jsonl(tmp_path / "res.jsonl", [json.dumps(records[0]), bad, json.dumps(records[2])])
    summary = _run(workdir, path)
    _reconciles(summary)
    [(_, line, reason, raw)] = _quarantine(workdir)
    assert (line, reason) == (2, "invalid UTF-8")
    assert "Comp\ufffd\ufffdute" in raw
    assert {r[0] for r in _responses(workdir)} == {1, 3}


def test_invalid_json_and_blank_lines_keep_exact_line_numbers(workdir, tmp_path):
    """A line that is not JSON is quarantined by its number, counting blank lines, which are not rows."""
    records = _records()[:3]
    path = _write_jsonl(
        tmp_path / "res.jsonl", [json.dumps(records[0]), "", "{not json", "   ", json.dumps(records[2])]
    )
    summary = _run(workdir, path)
    _reconciles(summary)
    assert summary.total("rows_read") == 3
    assert [(q[1], q[2]) for q in _quarantine(workdir)] == [(3, "invalid JSON")]
    assert {r[0] for r in _responses(workdir)} == {1, 5}


@pytest.mark.parametrize("field, reason", [("model", "empty model"), ("kind", "empty kind")])
def test_empty_model_or_kind_is_quarantined(workdir, tmp_path, field, reason):
    """A record with an empty model or kind cannot be placed: quarantined with the reason and its line."""
    records = _records()[:4]
    records[2][field] = ""
    path = _write_jsonl(tmp_path / "res.jsonl", [json.dumps(r) for r in records])
    summary = _run(workdir, path)
    _reconciles(summary)
    [(_file, line, got, raw)] = _quarantine(workdir)
    assert (line, got) == (3, reason)
    assert json.loads(raw) == records[2]
    assert summary.total("rows_loaded") == 3


def test_unknown_arm_quarantines_the_record_whole(workdir, tmp_path):
    """Keys of an arm the warehouse does not know (`rlm_answer`, `rlm_correct`) quarantine that record."""
    records = _records()[:3]
    records[1].update(rlm_answer='{"Answer": "1"}', rlm_correct=True, rlm_err_msg="ok")
    path = _write_jsonl(tmp_path / "res.jsonl", [json.dumps(r) for r in records])
    summary = _run(workdir, path)
    _reconciles(summary)
    [(_, line, reason, _)] = _quarantine(workdir)
    assert line == 2 and reason.startswith("unknown arm 'rlm'")
    assert {r[0] for r in _responses(workdir)} == {1, 3}


def test_missing_keys_are_named(workdir, tmp_path):
    """A record without some of an arm's keys is quarantined with the keys it lacks."""
    records = _records()[:2]
    del records[0]["sim_correct"]
    path = _write_jsonl(tmp_path / "res.jsonl", [json.dumps(r) for r in records])
    _reconciles(_run(workdir, path))
    [(_, line, reason, _)] = _quarantine(workdir)
    assert (line, reason) == (1, "missing keys: sim_correct")


def _csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    return rows[0], rows[1:]


def _write_csv(path: Path, header: list[str], rows: list[list[str]], tail: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path.write_text(out.getvalue() + tail, encoding="utf-8")
    return path


def test_wrong_column_count_in_res_csv(workdir, tmp_path):
    """A res.csv record with an extra field is quarantined by the line it starts on (multi-line cells counted)."""
    header, rows = _csv_rows(RES_CSV)
    rows = rows[:4]
    rows[2] = rows[2] + ["surplus"]
    path = _write_csv(tmp_path / "run_20251205_185614" / "res.csv", header, rows)
    summary = _run(workdir, path)
    _reconciles(summary)
    [(_, line, reason, raw)] = _quarantine(workdir)
    assert reason == f"wrong column count: expected {len(header)} fields, found {len(header) + 1}"
    text = path.read_text(encoding="utf-8").splitlines()
    assert text[line - 1].startswith(rows[2][0] + ",")  # the record starts on that physical line
    assert raw.endswith("surplus")
    assert summary.total("rows_loaded") == 3


def test_res_csv_cut_inside_a_quoted_cell(workdir, tmp_path):
    """A res.csv that ends inside a quoted multi-line cell: its last record is quarantined as truncated."""
    header, rows = _csv_rows(RES_CSV)
    path = _write_csv(tmp_path / "res.csv", header, rows[:3])
    text = path.read_text(encoding="utf-8")
    cut = text.rfind('"', 0, len(text) - 200)  # inside the last record's quoted prompt
    path.write_text(text[: cut + 1] + "the model start", encoding="utf-8")
    summary = _run(workdir, path)
    _reconciles(summary)
    [(_, _, reason, _)] = _quarantine(workdir)
    assert reason.startswith("truncated last line")
    assert summary.total("rows_loaded") == 2


def test_invalid_utf8_in_csv(workdir, tmp_path):
    """A CSV record holding bytes that are not UTF-8 is quarantined; the other records load."""
    header, rows = _csv_rows(RUN_CSV)
    path = _write_csv(tmp_path / "run_20250924_005007_results_seed_0.csv", header, rows[:3])
    data = path.read_bytes().replace(b"Compute: ", b"Compute:\xff ", 1)
    path.write_bytes(data)
    summary = _run(workdir, path, model="deepseek-coder-7b-instruct-v1.5")
    _reconciles(summary)
    [(_, _, reason, raw)] = _quarantine(workdir)
    assert reason == "invalid UTF-8" and "\ufffd" in raw
    assert summary.total("rows_loaded") == 2


def test_unknown_arm_column_in_a_per_run_csv(workdir, tmp_path):
    """A per-run CSV with `answer_rlm`/`correct_rlm` columns names the unknown arm for each record."""
    header, rows = _csv_rows(RUN_CSV)
    path = _write_csv(
        tmp_path / "run_20250924_005007_results_seed_0.csv",
        header + ["answer_rlm", "correct_rlm"],
        [r + ["1", "0"] for r in rows[:2]],
    )
    summary = _run(workdir, path, model="x/y")
    _reconciles(summary)
    assert [q[2] for q in _quarantine(workdir)] == ["unknown arm 'rlm'"] * 2


def test_per_run_csv_without_model_is_refused_with_the_remedy(workdir, tmp_path):
    """An older per-run CSV names no model: without --model it is refused, saying to pass --model, exit 1."""
    result = CliRunner().invoke(main, ["ingest", "import", str(RUN_CSV), "--no-progress"])
    assert result.exit_code == 1
    assert "no model is recorded in this file" in result.output and "--model ID" in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("Error: 1 file(s) not imported")
    assert not workdir.responses.exists()


def test_a_file_of_another_format_is_refused_and_recorded(workdir, tmp_path):
    """A file named on the command line that is no legacy format: refused (exit 1), one quarantine entry,
    and the legacy files beside it still load."""
    other = tmp_path / "notes.csv"
    other.write_text("a,b\n1,2\n")
    good = _write_jsonl(tmp_path / "res.jsonl", [json.dumps(r) for r in _records()[:2]])
    result = CliRunner().invoke(main, ["ingest", "import", str(other), str(good), "--no-progress"])
    assert result.exit_code == 1
    assert f"refused: {other}: CSV of another format" in result.output
    [(file, line, reason, raw)] = _quarantine(workdir)
    assert (file, line, raw) == (str(other.resolve()), None, "a,b")
    assert reason.startswith("not imported: CSV of another format")
    assert len(_responses(workdir)) == 8


def test_summary_names_file_and_line_of_quarantined_rows(workdir, tmp_path):
    """The command's summary lists quarantined rows as `file:line: reason` and reconciles its counts."""
    records = _records()[:3]
    records[0]["model"] = ""
    path = _write_jsonl(tmp_path / "res.jsonl", [json.dumps(r) for r in records])
    result = CliRunner().invoke(main, ["ingest", "import", str(path), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert f"  {path}:1: empty model" in result.output
    assert "rows: 3 read = 2 loaded + 1 quarantined + 0 superseded" in result.output


def test_fixed_file_reimported_clears_its_quarantine(workdir, tmp_path):
    """Once a file is fixed and imported again, its earlier quarantine entries are gone."""
    records = _records()[:2]
    path = _write_jsonl(tmp_path / "res.jsonl", [json.dumps(records[0]), "{broken"])
    _run(workdir, path)
    assert len(_quarantine(workdir)) == 1
    _write_jsonl(path, [json.dumps(r) for r in records])
    summary = _run(workdir, path)
    assert summary.total("rows_quarantined") == 0
    assert not list(workdir.quarantine.rglob("*.parquet"))


def test_a_bad_memory_limit_is_one_error_line(workdir, tmp_path):
    """A --memory-limit DuckDB cannot read ends in one `Error:` line and exit 1, not a traceback."""
    path = _write_jsonl(tmp_path / "res.jsonl", [json.dumps(r) for r in _records()[:1]])
    result = CliRunner().invoke(main, ["ingest", "import", str(path), "--no-progress", "--memory-limit", "lots"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: cannot open DuckDB with memory limit 'lots'")
    assert "Traceback" not in result.output
