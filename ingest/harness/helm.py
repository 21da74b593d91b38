"""HELM run folders: `run_spec.json` with `stats.json`, `per_instance_stats.json` and `scenario_state.json`.

Kept: the run (its spec name without the model arguments is the task, e.g. `mmlu:subject=anatomy`;
the adapter's model), every stat of `stats.json` as a reported score (mean, count as n_samples; HELM
reports no standard error) with its split and perturbation (`<name>/<computed_on>`, e.g.
`mild_mix/perturbed`, `robustness/worst`: kept apart from the unperturbed figure), and each
instance × train trial × perturbation × stat of `per_instance_stats.json` (the trial is the epoch,
counted from 1), joined to its request state for the instance's input text, its correct
references (the target) and the first completion (the output), and its prompt and completion token
counts. Dropped: adapter and metric specs, the full prompt with its in-context examples, other
completions and log-probabilities, `display_*.json`, `instances.json`, `scenario.json`, empty stats
(count 0). Large files are streamed (ijson); the request states are held as one small record per
instance. The run id is a hash of `run_spec.json` and `stats.json`.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import ijson

from .store import SHAPE_ERRORS, BadFile, BadRecord, RunSink, hashed_run_id, unexpected

SOURCE = "helm"
MODEL_ARGS = ("model", "model_deployment")


def read(path: Path, sink: RunSink) -> None:
    folder = path.parent
    spec_bytes = path.read_bytes()
    try:
        spec = json.loads(spec_bytes)
    except ValueError as exc:
        raise BadFile(f"run_spec.json is not readable JSON ({exc})") from None
    adapter = spec.get("adapter_spec") if isinstance(spec, dict) else None
    model = (adapter.get("model") or adapter.get("model_deployment")) if isinstance(adapter, dict) else None
    if not isinstance(spec.get("name") if isinstance(spec, dict) else None, str) or not spec["name"] or not model:
        raise BadFile("run_spec.json names no run or model")
    stats_path = folder / "stats.json"
    stats_bytes = stats_path.read_bytes() if stats_path.exists() else b""
    sink.begin(hashed_run_id(SOURCE, spec_bytes, stats_bytes), str(model))
    task = task_name(spec["name"])
    if stats_bytes:
        try:
            stats = json.loads(stats_bytes)
        except ValueError as exc:
            raise BadFile(f"stats.json is not readable JSON ({exc})") from None
        for position, stat in enumerate(stats if isinstance(stats, list) else [], start=1):
            try:
                _score(stat, task, sink)
            except BadRecord as exc:
                sink.record_bad(position, f"stats.json: {exc}", json.dumps(stat)[:4096])
            except SHAPE_ERRORS as exc:
                sink.record_bad(position, f"stats.json: {unexpected(exc)}", json.dumps(stat)[:4096])
    states = _request_states(folder / "scenario_state.json")
    per_instance = folder / "per_instance_stats.json"
    if per_instance.exists():
        with open(per_instance, "rb") as fh:
            for position, entry in enumerate(ijson.items(fh, "item", use_float=True), start=1):
                try:
                    rows = list(_rows(entry, task, states))
                    sink.samples(rows, source_line=position, source_member="per_instance_stats.json")
                except BadRecord as exc:
                    sink.record_bad(position, f"per_instance_stats.json: {exc}", json.dumps(entry)[:4096])
                    continue
                except SHAPE_ERRORS as exc:
                    sink.record_bad(position, f"per_instance_stats.json: {unexpected(exc)}", json.dumps(entry)[:4096])
                    continue
                sink.record_loaded()


def _score(stat: dict, task: str, sink: RunSink) -> None:
    name = stat.get("name") or {}
    if not stat.get("count") or not isinstance(stat.get("mean"), int | float):
        return
    sink.score(
        task=task,
        split=name.get("split"),
        perturbation=perturbation(name.get("perturbation")),
        metric=name.get("name"),
        value=float(stat["mean"]),
        n_samples=stat.get("count"),
    )


def task_name(run_name: str) -> str:
    """`mmlu:subject=anatomy,model=openai_gpt-4o` → `mmlu:subject=anatomy` (the model is a column)."""
    scenario, _, args = run_name.partition(":")
    kept = [a for a in args.split(",") if a and a.split("=", 1)[0] not in MODEL_ARGS]
    return scenario + (":" + ",".join(kept) if kept else "")


def perturbation(value: Any) -> str | None:
    if not isinstance(value, dict) or not value.get("name"):
        return None
    on = value.get("computed_on")
    return f"{value['name']}/{on}" if on else str(value["name"])


def _rows(entry: Any, task: str, states: dict) -> list[dict]:
    if not isinstance(entry, dict) or entry.get("instance_id") is None:
        raise BadRecord("no instance_id")
    trial = entry.get("train_trial_index", 0)
    if not isinstance(trial, int):
        raise BadRecord(f"train_trial_index {trial!r} is not an integer")
    stats = entry.get("stats")
    if not isinstance(stats, list):
        raise BadRecord("stats is not a list")
    pert = perturbation(entry.get("perturbation"))
    state = states.get((str(entry["instance_id"]), trial, pert), {})
    tokens = {s["name"]["name"]: s.get("sum") for s in stats if isinstance(s, dict) and isinstance(s.get("name"), dict)}
    rows = []
    for stat in stats:
        name = stat.get("name") if isinstance(stat, dict) else None
        if not isinstance(name, dict) or not name.get("name"):
            raise BadRecord("a stat without a name")
        if not stat.get("count"):
            continue
        value = stat.get("mean", stat.get("sum"))
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise BadRecord(f"stat {name['name']!r} has no numeric mean")
        rows.append(
            {
                "task": task,
                "split": name.get("split") or state.get("split"),
                "perturbation": pert,
                "sample_id": str(entry["instance_id"]),
                "epoch": trial + 1,
                "metric": name["name"],
                "value": float(value),
                "value_text": json.dumps(value),
                "input": state.get("input"),
                "target": state.get("target"),
                "output": state.get("output"),
                "input_tokens": _int(tokens.get("num_prompt_tokens")),
                "output_tokens": _int(tokens.get("num_completion_tokens")),
            }
        )
    return rows


def _request_states(path: Path) -> dict[tuple, dict]:
    """(instance id, train trial, perturbation) → input text, correct references, first completion."""
    states: dict[tuple, dict] = {}
    if not path.exists():
        return states
    with open(path, "rb") as fh:
        for state in ijson.items(fh, "request_states.item", use_float=True):
            with contextlib.suppress(*SHAPE_ERRORS):  # a state of another shape: its samples go without text
                _request_state(state, states)
    return states


def _request_state(state: dict, states: dict[tuple, dict]) -> None:
    instance = state.get("instance") or {}
    completions = ((state.get("result") or {}).get("completions")) or [{}]
    references = [
        (r.get("output") or {}).get("text", "")
        for r in instance.get("references") or []
        if "correct" in (r.get("tags") or [])
    ]
    key = (
        str(instance.get("id")),
        state.get("train_trial_index", 0),
        perturbation(instance.get("perturbation")),
    )
    states[key] = {
        "input": (instance.get("input") or {}).get("text"),
        "target": "\n".join(references) if references else None,
        "output": completions[0].get("text"),
        "split": instance.get("split"),
    }


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
