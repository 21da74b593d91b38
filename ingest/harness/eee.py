"""Every Eval Ever files: an aggregate `.json` (one evaluation run of one model) and its instance `.jsonl`.

Kept from the aggregate: `evaluation_id` (the run id), the model (`model_info.id`), each
`evaluation_results[]` entry as a reported score (evaluation name as the task, `metric_id` or
`metric_name` as the metric, `score_details.score`, the standard error and its `num_samples`, the
split from `source_data.hf_split`), and the keys evalhouse's own export puts in
`metric_config.additional_details` (task, split, scorer, filter, perturbation, variant), so an
export imports back to the same scores. Kept from each instance line: sample id, score, input,
references (the target), first raw output, the last extracted answer, token usage, and the epoch
from `metadata.epoch`; its `evaluation_result_id` is matched to the aggregate beside it for the
metric (or, failing that, read from the line's `metadata`, where evalhouse's export also writes it).
Dropped: source and eval-library metadata, generation config, messages of multi-turn and
agentic records, performance figures, sample hashes.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .store import SHAPE_ERRORS, BadFile, BadRecord, RunSink, unexpected

SOURCE = "eee"
SETTING = ("task", "split", "scorer", "filter", "perturbation", "variant")


def read_aggregate(path: Path, sink: RunSink) -> None:
    record = _load_aggregate(path)
    sink.begin(str(record["evaluation_id"]), _model(record), _time(record))
    library = record.get("eval_library")
    version = str((library.get("version") if isinstance(library, dict) else None) or "")
    for position, result in enumerate(_results(record)):
        try:
            _score(result, version, sink)
        except BadRecord as exc:
            sink.record_bad(None, f"evaluation_results[{position}]: {exc}", json.dumps(result)[:4096])
        except SHAPE_ERRORS as exc:
            sink.record_bad(None, f"evaluation_results[{position}]: {unexpected(exc)}", json.dumps(result)[:4096])


def _score(result: dict, version: str, sink: RunSink) -> None:
    setting = result_setting(result)
    details = result.get("score_details") or {}
    uncertainty = details.get("uncertainty") or {}
    score = details.get("score")
    if not isinstance(score, int | float) or isinstance(score, bool):
        return
    sink.score(
        **setting,
        value=float(score),
        stderr=_number((uncertainty.get("standard_error") or {}).get("value")),
        n_samples=uncertainty.get("num_samples") if isinstance(uncertainty.get("num_samples"), int) else None,
        harness_version=version,
    )


def _results(aggregate: dict) -> list:
    results = aggregate.get("evaluation_results")
    return results if isinstance(results, list) else []


def read_instances(path: Path, sink: RunSink) -> None:
    aggregate = _companion(path)
    settings = {}
    if aggregate is not None:
        for result in _results(aggregate):
            with contextlib.suppress(*SHAPE_ERRORS):  # a result read as the aggregate's own: quarantined there
                settings[result.get("evaluation_result_id")] = result_setting(result)
    begun = False
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (ValueError, RecursionError) as exc:
                sink.record_bad(number, f"not a JSON object ({exc})", line)
                continue
            try:
                if not isinstance(record, dict) or not record.get("evaluation_id") or record.get("sample_id") is None:
                    raise BadRecord("not an instance record (no evaluation_id or sample_id)")
                if not begun:
                    model = _model(aggregate) if aggregate else str(record.get("model_id") or "")
                    sink.begin(str(record["evaluation_id"]), model, _time(aggregate) if aggregate else None)
                    begun = True
                if str(record["evaluation_id"]) != sink.run_id:
                    raise BadRecord(f"evaluation_id {record['evaluation_id']!r} is not this file's {sink.run_id!r}")
                sink.samples([_instance_row(record, settings)], source_line=number)
            except BadRecord as exc:
                sink.record_bad(number, str(exc), line)
                continue
            except SHAPE_ERRORS as exc:
                sink.record_bad(number, unexpected(exc), line)
                continue
            sink.record_loaded()
    if not begun:
        raise BadFile("no instance record in it")


def result_setting(result: dict) -> dict:
    """Task, split, metric and the rest of one aggregate result, from evalhouse's details where present."""
    config = result.get("metric_config") or {}
    details = config.get("additional_details") or {}
    source = result.get("source_data") or {}
    setting = {key: details.get(key) or None for key in SETTING}
    setting["task"] = setting["task"] or result.get("evaluation_name")
    setting["split"] = setting["split"] or source.get("hf_split")
    setting["metric"] = config.get("metric_id") or config.get("metric_name") or result.get("evaluation_name")
    return setting


def _instance_row(record: dict, settings: dict) -> dict:
    evaluation = record.get("evaluation")
    if not isinstance(evaluation, dict) or not isinstance(evaluation.get("score"), int | float):
        raise BadRecord("evaluation.score is missing or not a number")
    metadata = record.get("metadata") or {}
    setting = settings.get(record.get("evaluation_result_id")) or {
        **{key: metadata.get(key) or None for key in SETTING},
        "task": metadata.get("task") or record.get("evaluation_name"),
        "metric": metadata.get("metric") or record.get("evaluation_result_id") or "score",
    }
    epoch = str(metadata.get("epoch", "1"))
    if not epoch.isdigit():
        raise BadRecord(f"metadata.epoch {epoch!r} is not an integer")
    source = record.get("input") or {}
    output = record.get("output") or {}
    attribution = record.get("answer_attribution") or []
    usage = record.get("token_usage") or {}
    references = source.get("reference") or []
    raw_outputs = output.get("raw") or []
    return {
        **{k: v for k, v in setting.items() if k in (*SETTING, "metric")},
        "sample_id": str(record["sample_id"]),
        "epoch": int(epoch),
        "value": float(evaluation["score"]),
        "value_text": metadata.get("value_text") or json.dumps(evaluation["score"]),
        "answer": attribution[-1].get("extracted_value") if attribution and isinstance(attribution[-1], dict) else None,
        "target": "\n".join(map(str, references)) if references else None,
        "input": source.get("raw"),
        "output": raw_outputs[0] if raw_outputs else None,
        "input_tokens": usage.get("input_tokens"),
        "output_tokens": usage.get("output_tokens"),
        "total_tokens": usage.get("total_tokens"),
        "error": record.get("error"),
    }


def _load_aggregate(path: Path) -> dict:
    try:
        record = json.loads(path.read_bytes())
    except ValueError as exc:
        raise BadFile(f"not readable JSON ({exc})") from None
    if (
        not isinstance(record, dict)
        or not record.get("evaluation_id")
        or not isinstance(record.get("model_info"), dict)
    ):
        raise BadFile("no evaluation_id or model_info: not an Every Eval Ever aggregate")
    return record


def _companion(samples: Path) -> dict | None:
    """The aggregate `<uuid>.json` beside `<uuid>_samples.jsonl`, when it is there and readable."""
    if not samples.name.endswith("_samples.jsonl"):
        return None
    aggregate = samples.with_name(samples.name[: -len("_samples.jsonl")] + ".json")
    try:
        return _load_aggregate(aggregate) if aggregate.exists() else None
    except BadFile:
        return None


def _model(record: dict) -> str:
    info = record.get("model_info") or {}
    return str(info.get("id") or info.get("name") or "")


def _time(record: dict | None) -> datetime | None:
    value = (record or {}).get("evaluation_timestamp") or (record or {}).get("retrieved_timestamp")
    try:
        if isinstance(value, str) and value.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(value), timezone.utc)
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
