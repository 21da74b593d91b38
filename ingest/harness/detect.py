"""Which harness wrote a file, decided from its name, its first bytes and its neighbours.

Main files are imported; the files a main file is read with (lm-eval's `samples_*.jsonl`, a HELM run
folder's stats and states) are recognised as its parts; listings and summaries the harnesses write
beside their logs are recognised and skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

INSPECT_EVAL = "inspect-eval"
INSPECT_JSON = "inspect-json"
LM_EVAL = "lm-eval"
HELM = "helm"
EEE_AGGREGATE = "eee-json"
EEE_INSTANCES = "eee-jsonl"
FORMATS = (INSPECT_EVAL, INSPECT_JSON, LM_EVAL, HELM, EEE_AGGREGATE, EEE_INSTANCES)
SOURCE = {
    INSPECT_EVAL: "inspect",
    INSPECT_JSON: "inspect",
    LM_EVAL: "lm_eval",
    HELM: "helm",
    EEE_AGGREGATE: "eee",
    EEE_INSTANCES: "eee",
}

# What HELM writes in a run folder beside run_spec.json (read with it, or not needed).
HELM_RUN_FILES = {
    "stats.json",
    "per_instance_stats.json",
    "scenario_state.json",
    "scenario.json",
    "instances.json",
    "display_predictions.json",
    "display_requests.json",
}
# helm-summarize's suite-level files: aggregates of the run folders.
HELM_SUITE_FILES = {"costs.json", "groups.json", "groups_metadata.json", "run_specs.json", "runs.json",
                    "runs_to_run_suites.json", "schema.json", "summary.json", "run_groups.json"}  # fmt: skip
_KEY = re.compile(rb'"([A-Za-z_][\w\-]*)"\s*:')


@dataclass(frozen=True)
class Sniffed:
    format: str | None = None  # one of FORMATS: imported
    part_of: str | None = None  # read with another file (named here)
    skipped: str | None = None  # a listing or summary, recognised and skipped


def sniff(path: Path, head: bytes) -> Sniffed | None:
    """What harness file `path` is, or None when it is none of theirs."""
    name = path.name.lower()
    if name.endswith(".eval"):
        return Sniffed(INSPECT_EVAL) if head.startswith(b"PK\x03\x04") else None
    if name.endswith(".jsonl"):
        return _sniff_jsonl(path, head)
    if not name.endswith(".json"):
        return None
    keys = set(_KEY.findall(head[: 1 << 16]))
    if name == "run_spec.json" and {b"scenario_spec", b"adapter_spec"} <= keys:
        return Sniffed(HELM)
    if name in HELM_RUN_FILES and (path.parent / "run_spec.json").exists():
        return Sniffed(part_of=str(path.parent / "run_spec.json"))
    if name in HELM_SUITE_FILES and any(p.name == "run_spec.json" for p in path.parent.glob("*/run_spec.json")):
        return Sniffed(skipped="HELM suite summary")
    if {b"eval", b"version"} <= keys and (b"eval_id" in keys or b"task_id" in keys):
        return Sniffed(INSPECT_JSON)
    if name == "logs.json" and any(path.parent.glob("*.eval")):
        return Sniffed(skipped="inspect log listing")
    if b"results" in keys and keys & {b"configs", b"versions", b"n-samples", b"config"}:
        return Sniffed(LM_EVAL)
    if {b"schema_version", b"evaluation_id"} <= keys and keys & {b"evaluation_results", b"model_info"}:
        return Sniffed(EEE_AGGREGATE)
    return None


def _sniff_jsonl(path: Path, head: bytes) -> Sniffed | None:
    first = head.split(b"\n", 1)[0].strip()
    keys = set(_KEY.findall(first))
    if path.name.startswith("samples_") and b"doc_id" in keys:
        results = _lm_eval_results_beside(path)
        if results is not None:
            return Sniffed(part_of=str(results))
        return None
    if {b"schema_version", b"evaluation_id", b"sample_id"} <= keys:
        return Sniffed(EEE_INSTANCES)
    return None


def _lm_eval_results_beside(samples: Path) -> Path | None:
    """The results_<date>.json written with samples_<task>_<date>.jsonl, if it is there."""
    match = re.match(r"^samples_.+_(\d{4}-\d{2}-\d{2}T[\d\-\.]+)\.jsonl$", samples.name)
    if match:
        candidate = samples.with_name(f"results_{match.group(1)}.json")
        if candidate.exists():
            return candidate
    found = sorted(samples.parent.glob("results*.json"))
    return found[0] if len(found) == 1 else None
