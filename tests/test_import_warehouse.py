"""Imported legacy data in the built warehouse: source accuracies reproduced, disagreements found and explained."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pytest

from evalhouse.build import build
from evalhouse.config import Paths
from evalhouse.ingest.importers import Options, import_paths

from .conftest import SHARED
from .project import paths_in, selected

pytestmark = pytest.mark.slow

TOOLPROJ = SHARED / "realdata" / "toolproj"
# The per-run CSVs name no model; README §2c infers it from the folder (run_performance.sh at the time).
MODEL_OF_FOLDER = {
    "deepseek2_smoke": "deepseek-ai/deepseek-coder-7b-instruct-v1.5",
    "gemma_smoke": "google/gemma-2-9b-it",
}
UNREGISTERED = "acme/not-in-the-registry"


def _model_for(path: Path) -> str:
    return next(
        (m for prefix, m in MODEL_OF_FOLDER.items() if path.parent.name.startswith(prefix)),
        f"legacy/{path.parent.name}",
    )


def _per_run_csvs() -> list[Path]:
    return sorted(TOOLPROJ.rglob("run_*_results_seed_*.csv"))


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """Every shared file imported (per-run CSVs with their models), plus one bad file and one unknown model; built."""
    root = tmp_path_factory.mktemp("legacy_wh")
    p = paths_in(root)
    with selected(p):
        import_paths([TOOLPROJ], p, Options(progress=False))
        for path in _per_run_csvs():
            import_paths([path], p, Options(model=_model_for(path), progress=False))
        screening = next(TOOLPROJ.rglob("screening/qwen3-32b_seed0/**/res.jsonl"))
        records = [json.loads(line) for line in screening.read_text(encoding="utf-8").splitlines()][:3]
        for record in records:
            record.update(model=UNREGISTERED, exp_id="run_20260301_000000")
        bad = root / "incoming" / "res.jsonl"
        bad.parent.mkdir()
        bad.write_text("\n".join(json.dumps(r) for r in records) + '\n{"model": "x", "kind": ', encoding="utf-8")
        import_paths([bad], p, Options(progress=False))
        result = build(p, quiet=False)
        yield p, result.log, bad


def _q(p: Paths, sql: str) -> list[tuple]:
    con = duckdb.connect(str(p.warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("results", _per_run_csvs(), ids=lambda p: p.name)
def test_accuracy_reported_reproduces_each_by_kind_digit_table(warehouse, results):
    """marts.acc_model_arm_kind_digit's source accuracy equals the run's own by_kind_digit.csv, cell for cell."""
    p, _, _ = warehouse
    table = results.with_name(results.name.split("_results_seed_")[0] + "_by_kind_digit.csv")
    mart = {
        (kind, digit, arm): (n, acc)
        for kind, digit, arm, n, acc in _q(
            p,
            f"""
            select kind, digit, arm, n_reported, accuracy_reported from marts.acc_model_arm_kind_digit
            where model = '{_model_for(results)}'""",
        )
    }
    with open(table, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(mart) == 3 * len(rows)
    for row in rows:
        for column, arm in (("acc_nl", "nl"), ("acc_code", "sim"), ("acc_exec", "code")):
            n, accuracy = mart[(row["kind"], int(row["digits"]), arm)]
            assert n == int(row["N"])
            assert f"{accuracy:.6f}" == row[column], (row, arm)


def test_disagreements_find_the_sub_gold_error(warehouse):
    """Where the source graded sub against |a−b|, the disagreement is listed as wrong_gold with both golds."""
    p, _, _ = warehouse
    rows = _q(
        p,
        """select gold, source_gold, answer, reported_correct, is_correct from marts.grading_disagreements
                    where reason = 'wrong_gold' and kind = 'sub'""",
    )
    assert len(rows) > 50
    for gold, source_gold, answer, reported, correct in rows:
        assert gold.startswith("-") and source_gold == gold[1:]
        assert answer == (gold if correct else source_gold) and reported != correct


def test_disagreements_find_lost_precision(warehouse):
    """16-digit add and mul golds that went through a float are listed as lost_precision, not wrong_gold."""
    p, _, _ = warehouse
    rows = _q(
        p, """select kind, digit, gold, source_gold from marts.grading_disagreements where reason = 'lost_precision'"""
    )
    assert {(k, d) for k, d, _, _ in rows} & {("add", 16), ("mul", 16)}
    for _, _, gold, source_gold in rows:
        assert gold != source_gold and abs(float(gold) - float(source_gold)) <= 1e-12 * abs(float(gold))


def test_grading_audit_counts_every_imported_response(warehouse):
    """Per model × kind × arm: agree + disagree = imported, regraded + source_verdict_only = imported,
    and reasons add up to the disagreements."""
    p, _, _ = warehouse
    rows = _q(
        p,
        """select n_imported, n_regraded, n_source_verdict_only, n_agree, n_disagree,
                           n_wrong_gold + n_lost_precision + n_answer_missing + n_unparseable_answer
                           + n_source_parse_failure + n_source_type_check + n_answer_format + n_other
                    from marts.grading_audit""",
    )
    assert rows
    for n, regraded, source_only, agree, disagree, reasons in rows:
        assert n == agree + disagree == regraded + source_only and reasons == disagree
    [(listed,)] = _q(p, "select count(*) from marts.grading_disagreements")
    assert listed == sum(r[4] for r in rows)


def test_kinds_that_cannot_be_regraded_are_not_reported_as_wrong(warehouse):
    """NP-hard kinds keep the source's verdict: the warehouse accuracy equals the source accuracy there."""
    p, _, _ = warehouse
    rows = _q(
        p,
        """select kind, accuracy, accuracy_reported from marts.acc_model_arm_kind
                    where kind in ('spp', 'tsp', 'gcp', 'ksp', 'edp', 'gsm8k') and model = 'openai/gpt-5-nano'""",
    )
    assert len(rows) == 6 * 4
    assert all(a == r for _, a, r in rows)
    [(n,)] = _q(p, """select sum(n_source_verdict_only) from marts.grading_audit where kind = 'spp'""")
    assert n > 0


def test_quarantine_mart_shows_file_and_line(warehouse):
    """The truncated last line of the bad file is in marts.quarantine with its file, line and text."""
    p, _, bad = warehouse
    rows = _q(p, f"select line, reason, raw from marts.quarantine where file = '{bad.resolve()}'")
    assert rows == [(4, "truncated last line (the file ends in the middle of a record)", '{"model": "x", "kind": ')]


def test_a_model_missing_from_the_registry_is_reported_not_dropped(warehouse):
    """An unregistered model keeps its responses in the marts (under its provider prefix, flagged); dbt warns."""
    p, log, _ = warehouse
    [(n,)] = _q(p, f"select sum(n) from marts.acc_model_arm_kind where model = '{UNREGISTERED}'")
    assert n == 12
    flags = _q(p, "select distinct all_registered from marts.acc_lab_arm_kind where lab = 'acme'")
    assert flags == [(False,)]
    warned = [line for line in log.splitlines() if "unregistered_models" in line]
    assert warned and any("WARN" in line for line in warned)
