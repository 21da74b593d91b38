"""The legacy pipeline's golds, recomputed from its question texts: every disagreement is one of its
documented bugs (float precision in add/mul, |a−b| for sub), and all of its other golds agree."""

from __future__ import annotations

import json

from evalhouse.ingest.problems import get_kind, kinds_of

from .conftest import SHARED

LEGACY = SHARED / "realdata" / "toolproj"


def _legacy_rows():
    for path in sorted(LEGACY.rglob("res.jsonl")):
        with open(path) as fh:
            for line in fh:
                row = json.loads(line)
                if row["kind"] in kinds_of("fine_grained") and row["question"]:
                    yield row


def test_legacy_fine_grained_golds_agree_except_known_bugs():
    """Regrading the legacy res.jsonl questions reproduces their golds, except the float and |a−b| bugs."""
    agree, bugs = 0, 0
    for row in _legacy_rows():
        kind = get_kind(row["kind"])
        instance = kind.parse_question(row["question"])
        assert instance is not None, row["question"][:120]
        gold, theirs = kind.gold(instance), row["answer"].strip()
        if gold == theirs:
            agree += 1
            continue
        bugs += 1
        a, b = instance.get("a"), instance.get("b")
        assert row["kind"] in ("add", "sub", "mul"), row["question"]
        through_float = {"add": float(a) + float(b), "sub": abs(float(a) - float(b)), "mul": float(a) * float(b)}
        explained = {str(int(through_float[row["kind"]]))}  # the sum went through a float
        if row["kind"] == "sub":
            explained.add(str(abs(a - b)))  # |a - b| instead of a - b
        assert theirs in explained, row["question"]
    assert agree >= 900 and bugs >= 50
