"""Inspect AI eval logs: `.eval` (a zip of JSON members) and `.json` (one JSON document).

Kept: the eval (id, task, model, dataset, creation time, inspect version), each sample × epoch ×
scorer (value as a float the way inspect's `value_to_float` maps it, the original value text, the
scorer's answer, input, target, output text, tokens, error) and each reported metric of
`results.scores` (with its scorer, the `stderr` metric beside the value it is the error of, and the
scorer's `scored_samples`). Dropped: events, messages, store, metadata, attachments not referenced
by the input, the plan, model and generation config, explanations, per-epoch reductions (the
warehouse recomputes them from the per-epoch rows).

A `.eval` log is read member by member (`header.json`, else `_journal/start.json`, then each
`samples/*.json`), so memory holds one sample at a time. A `.json` log up to `JSON_IN_MEMORY` bytes is
parsed whole; a larger one is streamed (ijson), sample by sample. Logs whose samples are cut short
or absent still give their reported scores.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from .jsonstream import top_level
from .store import SHAPE_ERRORS, BadFile, BadRecord, RunSink, hashed_run_id, unexpected
from .zipread import Archive

SOURCE = "inspect"
JSON_IN_MEMORY = 64 << 20
# Metrics that describe another metric's spread rather than the score itself.
SPREAD = {"stderr", "std", "var", "bootstrap_stderr"}


def read_eval(path: Path, sink: RunSink) -> None:
    try:
        archive = Archive(path)
    except ValueError as exc:
        raise BadFile(str(exc)) from None
    with archive:
        names = set(archive.names())
        head_name = "header.json" if "header.json" in names else "_journal/start.json"
        if head_name not in names:
            raise BadFile("a zip without header.json or _journal/start.json: not an inspect log")
        try:
            head = json.loads(archive.read(head_name))
        except (ValueError, OSError) as exc:
            raise BadFile(f"{head_name} is not readable JSON ({exc})") from None
        log = Log(head, sink)
        members = sorted((n for n in names if n.startswith("samples/") and n.endswith(".json")), key=_member_order)
        sink.expect(len(members))
        for position, name in enumerate(members, start=1):
            try:
                raw = archive.read(name)
                sample = json.loads(raw)
            except (ValueError, OSError) as exc:
                sink.record_bad(position, f"{name}: not readable JSON ({exc})", None)
                continue
            log.sample(sample, position, name, raw)
        log.scores()


def read_json(path: Path, sink: RunSink) -> None:
    with open(path, "rb") as fh:
        if path.stat().st_size <= JSON_IN_MEMORY:
            try:
                whole = json.load(fh)
            except ValueError as exc:
                raise BadFile(f"not readable JSON ({exc})") from None
            samples = whole.pop("samples", None) or []
            log = Log(whole, sink)
            for position, sample in enumerate(samples, start=1):
                log.sample(sample, position, None, None)
            log.scores()
            return
        head: dict[str, Any] = {}
        log = None
        position = 0
        for kind, key, value in top_level(fh, "samples"):
            if kind == "field":
                head[key] = value
                continue
            if log is None:
                log = Log(head, sink)
            position += 1
            log.sample(value, position, None, None)
        (log or Log(head, sink)).scores()


class Log:
    """One inspect log: its header given first, then its samples, then its reported scores."""

    def __init__(self, head: dict, sink: RunSink):
        self.head, self.sink = head, sink
        evaluation = head.get("eval")
        if not isinstance(evaluation, dict) or not evaluation.get("task"):
            raise BadFile("no eval section with a task: not an inspect log")
        self.eval = evaluation
        self.task = str(evaluation["task"]).rsplit("/", 1)[-1]
        run_id = evaluation.get("eval_id") or hashed_run_id(
            "inspect", str(evaluation.get("run_id")), str(evaluation.get("task_id")), self.task
        )
        sink.begin(str(run_id), str(evaluation.get("model") or ""), _time(evaluation.get("created")))
        self.metric_of = {s.get("name"): _headline_metric(s.get("metrics")) for s in evaluation.get("scorers") or []}

    def sample(self, sample: Any, position: int, member: str | None, raw: bytes | None) -> None:
        where = f"{member}: " if member else ""
        try:
            self.sink.samples(list(self._rows(sample)), source_line=position, source_member=member)
        except BadRecord as exc:
            self.sink.record_bad(position, f"{where}{exc}", raw if raw is not None else _dump(sample))
            return
        except SHAPE_ERRORS as exc:
            self.sink.record_bad(position, f"{where}{unexpected(exc)}", raw if raw is not None else _dump(sample))
            return
        self.sink.record_loaded()

    def _rows(self, sample: Any) -> Iterator[dict]:
        if not isinstance(sample, dict) or sample.get("id") is None:
            raise BadRecord("sample without an id")
        epoch = sample.get("epoch", 1)
        if not isinstance(epoch, int) or isinstance(epoch, bool):
            raise BadRecord(f"epoch {epoch!r} is not an integer")
        attachments = sample.get("attachments") or {}
        usage = _usage(sample)
        error = sample.get("error")
        common = {
            "task": self.task,
            "sample_id": str(sample["id"]),
            "epoch": epoch,
            "input": _text(sample.get("input"), attachments),
            "target": _target(sample.get("target")),
            "output": _text(((sample.get("output") or {}).get("completion")), attachments),
            "error": (error.get("message") if isinstance(error, dict) else error) or None,
            **usage,
        }
        scores = sample.get("scores") or {}
        if not isinstance(scores, dict):
            raise BadRecord("scores is not an object")
        if not scores:
            yield common  # an errored or unscored sample: its text is kept, its value is null
            return
        for scorer, score in scores.items():
            if not isinstance(score, dict) or "value" not in score:
                raise BadRecord(f"score {scorer!r} has no value")
            value = score["value"]
            answer = score.get("answer")
            parts = value.items() if isinstance(value, dict) else [(scorer, value)]
            for name, item in parts:
                yield {
                    **common,
                    "scorer": str(name),
                    "metric": self.metric_of.get(scorer) or "value",
                    "value": to_float(item, scorer),
                    "value_text": None if item is None else str(item),
                    "answer": None if answer is None else str(answer),
                }

    def scores(self) -> None:
        results = self.head.get("results") or {}
        entries = results.get("scores") if isinstance(results, dict) else None
        for position, entry in enumerate(entries if isinstance(entries, list) else [], start=1):
            try:
                self.sink.scores(list(self._scores(entry, results)))
            except BadRecord as exc:
                self.sink.record_bad(None, f"results.scores[{position}]: {exc}", _dump(entry))
            except SHAPE_ERRORS as exc:
                self.sink.record_bad(None, f"results.scores[{position}]: {unexpected(exc)}", _dump(entry))

    def _scores(self, entry: dict, results: dict) -> Iterator[dict]:
        metrics = entry.get("metrics") or {}
        stderr = _number((metrics.get("stderr") or {}).get("value"))
        for key, metric in metrics.items():
            name = (metric or {}).get("name") or key
            if name == "stderr":
                continue
            value = (metric or {}).get("value")
            for metric_name, number in _flatten(name, value):
                yield dict(
                    task=self.task,
                    scorer=entry.get("name") or entry.get("scorer"),
                    metric=metric_name,
                    value=number,
                    stderr=stderr if name in ("accuracy", "mean") else None,
                    n_samples=entry.get("scored_samples", results.get("completed_samples")),
                    harness_version=str((self.eval.get("packages") or {}).get("inspect_ai") or ""),
                )


def to_float(value: Any, scorer: str) -> float | None:
    """A score value as inspect's default `value_to_float` maps it: C/I/P/N → 1/0/0.5/0, yes/true →
    1, no/false → 0, numbers as numbers. What inspect would turn into 0 with a warning is refused."""
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        mapped = {"c": 1.0, "i": 0.0, "p": 0.5, "n": 0.0, "yes": 1.0, "true": 1.0, "no": 0.0, "false": 0.0}
        if value.strip().lower() in mapped:
            return mapped[value.strip().lower()]
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if math.isfinite(number):
            return number
    raise BadRecord(f"score {scorer!r} value {value!r} is not a number, C/I/P/N or yes/no")


def _headline_metric(metrics: Any) -> str | None:
    names = []
    if isinstance(metrics, list):
        names = [m.get("name", "") for m in metrics if isinstance(m, dict)]
    elif isinstance(metrics, dict):  # {score key: [metrics]} for scorers that return several values
        names = [
            m.get("name", "") for ms in metrics.values() if isinstance(ms, list) for m in ms if isinstance(m, dict)
        ]
    names = [n.rsplit("/", 1)[-1] for n in names]
    return next((n for n in names if n and n not in SPREAD), None)


def _flatten(name: str, value: Any) -> Iterator[tuple[str, float]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(f"{name}/{key}", item)
    elif (number := _number(value)) is not None:
        yield name, number


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _usage(sample: dict) -> dict:
    totals = {"input_tokens": None, "output_tokens": None, "total_tokens": None}
    usage = sample.get("model_usage") or {}
    if not usage and isinstance(sample.get("output"), dict):
        usage = {"": sample["output"].get("usage") or {}}
    for per_model in usage.values():
        for key in totals:
            if isinstance(per_model, dict) and isinstance(per_model.get(key), int):
                totals[key] = (totals[key] or 0) + per_model[key]
    return totals


def _text(value: Any, attachments: dict) -> str | None:
    """A sample's input or output as text: a string, or chat messages one per line as `role: content`."""
    if value is None:
        return None
    if isinstance(value, str):
        return _resolve(value, attachments)
    if isinstance(value, list):
        lines = []
        for message in value:
            if isinstance(message, dict):
                lines.append(f"{message.get('role', '')}: {_content(message.get('content'), attachments)}")
            else:
                lines.append(str(message))
        return "\n".join(lines)
    return json.dumps(value)


def _content(content: Any, attachments: dict) -> str:
    if isinstance(content, str):
        return _resolve(content, attachments)
    if isinstance(content, list):
        return " ".join(_resolve(str(p.get("text", "")), attachments) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def _resolve(text: str, attachments: dict) -> str:
    if text.startswith("attachment://"):
        return str(attachments.get(text[len("attachment://") :], text))
    return text


def _target(target: Any) -> str | None:
    if target is None:
        return None
    if isinstance(target, list):
        return "\n".join(map(str, target))
    return str(target)


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _member_order(name: str) -> tuple:
    """`samples/<id>_epoch_<n>.json` in epoch, then id order (numeric ids numerically)."""
    stem = name[len("samples/") : -len(".json")]
    sample_id, _, epoch = stem.rpartition("_epoch_")
    return (int(epoch) if epoch.isdigit() else 0, (0, int(sample_id), "") if sample_id.isdigit() else (1, 0, sample_id))


def _dump(value: Any) -> str:
    try:
        return json.dumps(value)[:4096]
    except (TypeError, ValueError):
        return repr(value)[:4096]
