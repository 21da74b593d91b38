"""lm-evaluation-harness output: `results_<date>.json` and the `samples_<task>_<date>.jsonl` beside it.

Kept: the model (`model_name`, else `config.model_args`), every `results[task]["metric,filter"]` with
its `metric_stderr,filter` and the task's `n-samples` (effective), the evaluated split from the task
config, lm-eval's version and date; from the samples files, each doc × filter × metric value with the
doc id, the prompt (first request's context), the target, the raw response (generation tasks) and
the filtered response. Dropped: the docs' other fields, per-request arguments beyond the first,
log-likelihoods (kept only inside the filtered response text), hashes, configs, environment info.
Per-sample values that are not numbers (corpus metrics such as bleu hand lm-eval a tuple) keep their
text with a null value. The run id is a hash of the results file's bytes.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .store import SHAPE_ERRORS, BadFile, BadRecord, RunSink, hashed_run_id, unexpected

SOURCE = "lm_eval"
NOT_METRICS = {"alias", "name", "sample_len", "samples", " "}


def read(path: Path, sink: RunSink) -> None:
    raw = path.read_bytes()
    try:
        report = json.loads(raw)
    except ValueError as exc:
        raise BadFile(f"not readable JSON ({exc})") from None
    results = report.get("results") if isinstance(report, dict) else None
    if not isinstance(results, dict):
        raise BadFile("no results object: not lm-eval output")
    date = report.get("date")
    created = datetime.fromtimestamp(date, timezone.utc) if isinstance(date, int | float) else None
    sink.begin(hashed_run_id(SOURCE, raw), _model(report), created)
    configs = _object(report.get("configs"))
    counts = _object(report.get("n-samples"))
    version = str(report.get("lm_eval_version") or "")
    for task, figures in results.items():
        try:
            _scores(task, figures, _split(configs.get(task)), counts.get(task), version, sink)
        except BadRecord as exc:
            sink.record_bad(None, f"results[{task!r}]: {exc}", json.dumps(figures)[:4096])
        except SHAPE_ERRORS as exc:
            sink.record_bad(None, f"results[{task!r}]: {unexpected(exc)}", json.dumps(figures)[:4096])
    for task in results:
        samples = _samples_file(path, task)
        if samples is not None:
            _read_samples(samples, task, _split(configs.get(task)), sink)


def _scores(task: str, figures: dict, split: str | None, n: Any, version: str, sink: RunSink) -> None:
    """One task's reported figures: every `metric,filter` with its stderr; all, or BadRecord and none."""
    scores = []
    for key, value in figures.items():
        if "," not in key or key.split(",", 1)[0] in NOT_METRICS or "_stderr," in key:
            continue
        metric, filter_ = key.split(",", 1)
        number = _number(value)
        if number is None:
            continue
        scores.append(
            dict(
                task=task,
                split=split,
                metric=metric,
                filter=filter_,
                value=number,
                stderr=_number(figures.get(f"{metric}_stderr,{filter_}")),
                n_samples=n.get("effective", n.get("original")) if isinstance(n, dict) else None,
                harness_version=version,
            )
        )
    sink.scores(scores)


def _object(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _read_samples(path: Path, task: str, split: str | None, sink: RunSink) -> None:
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                sink.samples(_rows(line), task=task, split=split, source_line=number, source_member=path.name)
            except BadRecord as exc:
                sink.record_bad(number, f"{path.name}: {exc}", line)
                continue
            except SHAPE_ERRORS as exc:
                sink.record_bad(number, f"{path.name}: {unexpected(exc)}", line)
                continue
            sink.record_loaded()


def _rows(line: bytes) -> list[dict]:
    try:
        doc = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise BadRecord(f"not a JSON object ({exc})") from None
    if not isinstance(doc, dict) or doc.get("doc_id") is None:
        raise BadRecord("no doc_id")
    metrics = doc.get("metrics") or [k for k in doc if k not in _KNOWN]
    common = {
        "sample_id": str(doc["doc_id"]),
        "epoch": 1,
        "filter": doc.get("filter") or "none",
        "input": _prompt(doc.get("arguments")),
        "target": None if doc.get("target") is None else _text(doc.get("target")),
        "output": _generated(doc.get("resps")),
        "answer": _text(doc.get("filtered_resps")),
    }
    rows = []
    for metric in metrics:
        if metric not in doc:
            raise BadRecord(f"metric {metric!r} is listed but has no value")
        value = doc[metric]
        number = _number(value)
        if number is None and isinstance(value, int | float | str):
            raise BadRecord(f"metric {metric!r} value {value!r} is not a number")
        rows.append({**common, "metric": metric, "value": number, "value_text": _text(value)})
    return rows


_KNOWN = {"doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter", "metrics", "doc_hash",
          "prompt_hash", "target_hash"}  # fmt: skip


def _model(report: dict) -> str:
    if report.get("model_name"):
        return str(report["model_name"])
    config = report.get("config") or {}
    args = config.get("model_args")
    if isinstance(args, dict):
        args = ",".join(f"{k}={v}" for k, v in args.items())
    return str(args or config.get("model") or "")


def _split(config: Any) -> str | None:
    if not isinstance(config, dict):
        return None
    return config.get("test_split") or config.get("validation_split") or None


def _samples_file(results: Path, task: str) -> Path | None:
    match = re.match(r"^results_(.+)\.json$", results.name)
    if match:
        exact = results.with_name(f"samples_{task}_{match.group(1)}.jsonl")
        if exact.exists():
            return exact
    found = sorted(results.parent.glob(f"samples_{task}_*.jsonl"))
    # another task's file may start with this task's name (arc_easy_… vs arc_easy_mini_…): match the date part
    found = [
        p for p in found if re.fullmatch(rf"samples_{re.escape(task)}_\d{{4}}-\d{{2}}-\d{{2}}T[\d\-\.]+\.jsonl", p.name)
    ]
    return found[-1] if found else None


def _prompt(arguments: Any) -> str | None:
    if isinstance(arguments, dict) and arguments:
        first = arguments.get("gen_args_0") or next(iter(arguments.values()))
        if isinstance(first, dict):
            return _text(first.get("arg_0"))
    if isinstance(arguments, list) and arguments and isinstance(arguments[0], list) and arguments[0]:
        return _text(arguments[0][0])
    return None


def _generated(resps: Any) -> str | None:
    """The generated text of a generation task (`[["text"]]`); None for log-likelihood requests."""
    if isinstance(resps, list) and resps and isinstance(resps[0], list) and resps[0] and isinstance(resps[0][0], str):
        return resps[0][0]
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)
