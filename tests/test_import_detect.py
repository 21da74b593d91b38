"""Format detection of legacy files: what is imported, what is skipped as an aggregate, what is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalhouse.ingest.importers import detect, discover
from evalhouse.ingest.importers.detect import RES_CSV, RES_JSONL, RUN_CSV

from .conftest import SHARED

TOOLPROJ = SHARED / "realdata" / "toolproj"
SHARED_FILES = sorted(p for p in TOOLPROJ.rglob("*") if p.is_file())


def _expected(path: Path) -> tuple[str | None, bool]:
    """(format, is_aggregate) that the README says each shared file is."""
    name = path.name
    if name == "res.jsonl":
        return RES_JSONL, False
    if name == "res.csv":
        return RES_CSV, False
    if "_results_seed_" in name:
        return RUN_CSV, False
    return None, True


@pytest.mark.parametrize("path", SHARED_FILES, ids=lambda p: str(p.relative_to(TOOLPROJ)))
def test_every_shared_file_is_recognised(path):
    """Each shared file is detected as the format it is, or as an aggregate; none is left unknown."""
    found = detect(path)
    fmt, aggregate = _expected(path)
    assert found.format == fmt
    assert (found.aggregate is not None) == aggregate
    assert found.problem is None


def test_aggregates_are_named_for_what_they_are():
    """Per-kind tables, run summaries, result tables, outcome tables and Markdown say what they are."""
    names = {p.name: detect(p).aggregate for p in SHARED_FILES if detect(p).aggregate}
    assert names["run_20250924_005007_by_kind_digit.csv"] == "per-kind × digit table"
    assert names["run_20250924_005007_summary.txt"] == "run summary"
    assert names["accuracy_by_model.csv"] == "result table"
    assert names["results_table.csv"] == "result table"
    assert names["route_accuracy_tables.md"] == "Markdown"


def test_outcome_tables_are_aggregates(tmp_path):
    """A `*_outcomes.csv` (flattened outcomes of the paper's analysis) is skipped, not imported."""
    path = tmp_path / "coding_model_outcomes.csv"
    path.write_text("model_label,source_run,kind,nl_correct\ncodestral,run_1,add,True\n")
    assert detect(path).aggregate == "flattened outcome table"


@pytest.mark.parametrize(
    "name, content, why",
    [
        ("other.csv", "a,b,c\n1,2,3\n", "CSV of another format"),
        ("events.jsonl", json.dumps({"event": "start", "at": 1}) + "\n", "JSON lines of another format"),
        ("res.jsonl", "kind,model\nadd,x\n", "not JSON lines"),
        ("notes.txt", "hello\n", "not a legacy result file"),
        ("empty.csv", "", "empty file"),
    ],
)
def test_files_of_another_format_are_not_legacy_results(tmp_path, name, content, why):
    """A file that is none of the legacy formats is reported with the reason, not imported."""
    path = tmp_path / name
    path.write_text(content)
    found = detect(path, explicit=True)
    assert not found.importable and found.aggregate is None
    assert why in found.problem


def test_discover_walks_folders_and_marks_named_files(tmp_path):
    """Folders are searched recursively (hidden files skipped); files named on the command line are explicit."""
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "x.md").write_text("# x\n")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "y.md").write_text("# y\n")
    named = tmp_path / "z.md"
    named.write_text("# z\n")
    found = list(discover([tmp_path / "a", named]))
    assert [(f.path.name, f.explicit) for f in found] == [("x.md", False), ("z.md", True)]
