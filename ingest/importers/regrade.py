"""Legacy problems: a stable id per instance, and the gold recomputed from the question.

The same instance must have the same `problem_id` for every model and seed so responses pair. The
legacy files identify an instance by (kind, digit, index_in_kind) within a generator (README §4.8);
the id spells that out under the generator's namespace (`toolproj/sub/8/14`, the macro `legacy_problem_id`
in sql/prepare.sql), which can never equal
a generated problem's 24-hex id. The Sept 2025 CSVs come from an older generator, so they get their
own namespace.

The warehouse regrades a legacy response only when it can recompute the gold itself: the kind is
one of its own kinds, has `parse_question`, the question parses, and the kind has a single right
answer. Arithmetic is exact (Python integers), and `sub` is signed. Every other response keeps the
source's verdict, marked `source_verdict_only`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache

import pyarrow as pa

from evalhouse.ingest.problems import KINDS
from evalhouse.ingest.store import problems_schema

NAMESPACE = {"legacy-res-jsonl": "toolproj", "legacy-res-csv": "toolproj", "legacy-run-csv": "toolproj-cot"}
SOURCE_VERDICT_ONLY = "source_verdict_only"


@lru_cache(maxsize=1 << 15)
def recompute(kind: str, question: str | None) -> tuple[str | None, str | None]:
    """(instance_json, gold) from the question text, or (None, None) when the warehouse cannot.

    Remembered: the same instances come back for every model and seed (and every copy of a run)."""
    k = KINDS.get(kind)
    parse = getattr(k, "parse_question", None)
    if k is None or parse is None or not question:
        return None, None
    instance = parse(question)
    if instance is None:
        return None, None
    gold = k.gold(instance)
    if gold is None:
        return None, None
    return json.dumps(instance, sort_keys=True, separators=(",", ":")), gold


def problems_table(rows: Iterable[tuple[str, str, int, int, str | None, str]]) -> pa.Table:
    """Problem rows for (problem_id, kind, digit, index, question, namespace), golds recomputed."""
    schema = problems_schema()
    out: dict[str, list] = {f.name: [] for f in schema}
    for problem_id, kind, digit, index, question, namespace in rows:
        instance_json, gold = recompute(kind, question)
        values = {
            "problem_id": problem_id,
            "kind": kind,
            "digit": digit,
            "index": index,
            "question": question or None,
            "gold_answer": gold,
            "instance_json": instance_json,
            "problem_seed": None,
            "generator_version": namespace,
        }
        for name in out:
            out[name].append(values[name])
    return pa.table({f.name: pa.array(out[f.name], f.type) for f in schema}, schema=schema)
