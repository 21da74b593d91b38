"""Every Eval Ever files from the marts: one aggregate JSON and one instance JSONL per run and model.

Every row of marts.benchmark_scores becomes an `evaluation_results[]` entry of its run's aggregate, and
every row of marts.benchmark_instances a line of the run's `_samples.jsonl`; evalhouse's own results
(source `evalhouse`) are one run per model. Files are laid out as the Every Eval Ever datastore has them,
`data/<collection>/<developer>/<model>/<uuid>.json` and `<uuid>_samples.jsonl` (the collection is the
source: inspect, lm_eval, helm, eee, evalhouse), with a uuid derived from the run, so exporting again
rewrites the same files. What the schema has no field for (task, split, scorer, filter, perturbation,
variant: evalhouse's arm) goes into `metric_config.additional_details` and each line's `metadata`, which
is what lets `evalhouse ingest import` read an export back to the same scores.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .files import write_atomic
from .registry import lookup, resolve
from .sqlfiles import Statements

# The schema the validator of every-eval-ever 0.3.0 (the one release on PyPI) bundles.
SCHEMA_VERSION = "0.3.0"
SETTING = ("task", "split", "variant", "scorer", "filter", "perturbation")
LIBRARY = {
    "inspect": "inspect_ai",
    "lm_eval": "lm_eval",
    "helm": "helm",
    "eee": "every_eval_ever",
    "evalhouse": "evalhouse",
}
BATCH = 10_000
SQL = Statements("evalhouse")


class ExportError(Exception):
    """A user's mistake (no warehouse, nothing matching the filters): one Error line."""


@dataclass(frozen=True)
class Exported:
    aggregate: Path
    samples: Path | None
    results: int
    instances: int


def export_eee(warehouse: Path, out: Path, models: list[str] = (), tasks: list[str] = ()) -> list[Exported]:
    """Write one aggregate (and its samples file) per (source, run, model) matching the filters."""
    if not warehouse.exists():
        raise ExportError(f"no warehouse at {warehouse}: run `evalhouse build` first")
    models = [resolve(m) or m for m in models]
    filters = Filters(models, tasks)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        try:
            runs = con.execute(filters.sql("export_runs.sql"), filters.parameters()).fetchall()
        except duckdb.CatalogException:
            raise ExportError(
                f"{warehouse} has no marts.benchmark_scores: run `evalhouse build` with this version"
            ) from None
        if not runs and not (models or tasks):
            raise ExportError(
                f"nothing to export: {warehouse} holds no answered response and no benchmark score; import harness logs (`evalhouse ingest import`) "
                "or collect responses (`evalhouse ingest run`), then run `evalhouse build`"
            )
        if not runs:
            raise ExportError("nothing to export: no score in marts.benchmark_scores matches the filters")
        return [_export_run(con, out, run, filters) for run in runs]
    finally:
        con.close()


@dataclass(frozen=True)
class Filters:
    """--model and --task: the statements test them only when given."""

    models: list[str]
    tasks: list[str]

    def sql(self, statement: str) -> str:
        return SQL(statement, by_model=bool(self.models), by_task=bool(self.tasks), setting=SETTING)

    def parameters(self, **run: str) -> dict[str, object]:
        """The bind parameters: the filters that are given, and a run's source, run_id and model."""
        given = {"models": self.models, "tasks": self.tasks}
        return {**{k: v for k, v in given.items() if v}, **run}


def _export_run(con, out: Path, run: tuple, filters: Filters) -> Exported:
    source, run_id, model = run
    folder, name = _location(source, model, run_id)
    target = out / folder
    target.mkdir(parents=True, exist_ok=True)
    evaluation_id = f"{source}/{model}/{run_id}"
    params = filters.parameters(source=source, run_id=run_id, model=model)
    scores = con.execute(filters.sql("export_scores.sql"), params).fetchall()
    results, result_ids, version, created = [], {}, None, None
    for *setting, metric, value, stderr, n_samples, harness_version, created_at in scores:
        keyed = dict(zip(SETTING, setting))
        result_id = _result_id(keyed, metric)
        result_ids[(*setting, metric)] = result_id
        results.append(_result(result_id, keyed, metric, value, stderr, n_samples, source, run_id))
        version = version or harness_version
        created = created or created_at
    samples_path = target / f"{name}_samples.jsonl"
    cursor = con.execute(filters.sql("export_samples.sql"), params)
    instances = _write_samples(cursor, samples_path, evaluation_id, model, result_ids)
    record = {
        "schema_version": SCHEMA_VERSION,
        "evaluation_id": evaluation_id,
        "retrieved_timestamp": str(int(time.time())),
        "source_metadata": {
            "source_name": "evalhouse",
            "source_type": "evaluation_run",
            "source_organization_name": "evalhouse",
            "evaluator_relationship": "third_party",
            "additional_details": {"source": source, "run_id": run_id},
        },
        "eval_library": {"name": LIBRARY.get(source, source), "version": version or "unknown"},
        "model_info": _model_info(model),
        "evaluation_results": results,
    }
    if created is not None:
        record["evaluation_timestamp"] = created.isoformat()
    if instances:
        record["detailed_evaluation_results"] = {
            "format": "jsonl",
            "file_path": f"{folder.as_posix()}/{name}_samples.jsonl",
            "hash_algorithm": "sha256",
            "checksum": _sha256(samples_path),
            "total_rows": instances,
        }
    aggregate = target / f"{name}.json"
    write_atomic(aggregate, json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    return Exported(aggregate, samples_path if instances else None, len(results), instances)


def _write_samples(cursor, path: Path, evaluation_id: str, model: str, result_ids: dict) -> int:
    """The run's instances, one JSON line each, streamed from `cursor`; no file when there is none."""
    first = cursor.fetchmany(BATCH)
    if not first:
        path.unlink(missing_ok=True)
        return 0
    n = 0

    def write(tmp: Path) -> None:
        nonlocal n
        with open(tmp, "w", encoding="utf-8") as fh:
            for rows in itertools.chain([first], iter(lambda: cursor.fetchmany(BATCH), [])):
                for row in rows:
                    fh.write(json.dumps(_instance(row, evaluation_id, model, result_ids), ensure_ascii=False) + "\n")
                    n += 1

    write_atomic(path, write)
    return n


def _instance(row: tuple, evaluation_id: str, model: str, result_ids: dict) -> dict:
    *setting, metric, instance_id, epoch, score, value_text, answer, target, text_in, text_out, tin, tout, error = row
    keyed = dict(zip(SETTING, setting))
    line = {
        "schema_version": SCHEMA_VERSION,
        "evaluation_id": evaluation_id,
        "model_id": model,
        "evaluation_name": keyed["task"],
        "sample_id": str(instance_id),
        "interaction_type": "single_turn",
        "input": {"raw": text_in or "", "reference": [target] if target is not None else []},
        "output": {"raw": [text_out or ""]},
        "answer_attribution": [
            {
                "turn_idx": 0,
                "source": "output.raw",
                "extracted_value": answer if answer is not None else (value_text or ""),
                "extraction_method": keyed["scorer"] or keyed["filter"] or "harness",
                "is_terminal": True,
            }
        ],
        "evaluation": {"score": score, "is_correct": score == 1.0},
        "metadata": {
            "epoch": str(epoch),
            "metric": metric,
            **({"value_text": value_text} if value_text is not None else {}),
            **{k: v for k, v in keyed.items() if v is not None},
        },
    }
    result_id = result_ids.get((*setting, metric))
    if result_id is not None:
        line["evaluation_result_id"] = result_id
    if tin is not None and tout is not None:
        line["token_usage"] = {"input_tokens": int(tin), "output_tokens": int(tout), "total_tokens": int(tin + tout)}
    if error is not None:
        line["error"] = error
    return line


def _result(result_id, keyed, metric, value, stderr, n_samples, source, run_id) -> dict:
    details = {k: v for k, v in keyed.items() if v is not None}
    result = {
        "evaluation_result_id": result_id,
        "evaluation_name": keyed["task"],
        "source_data": {
            "dataset_name": keyed["task"],
            "source_type": "other",
            "additional_details": {"source": source},
        },
        "metric_config": {
            "metric_id": metric,
            "metric_name": metric,
            "lower_is_better": False,
            "additional_details": details,
        },
        "score_details": {"score": value},
    }
    uncertainty = {}
    if stderr is not None:
        uncertainty["standard_error"] = {"value": stderr, "method": "analytic"}
    if n_samples is not None:
        uncertainty["num_samples"] = int(n_samples)
    if uncertainty:
        result["score_details"]["uncertainty"] = uncertainty
    return result


def _result_id(keyed: dict, metric: str) -> str:
    """A stable id of one result inside its run: task and metric, and a hash of the whole setting."""
    digest = hashlib.sha256(json.dumps([*keyed.values(), metric]).encode()).hexdigest()[:10]
    return f"{keyed['task']}/{metric}/{digest}"


def _model_info(model: str) -> dict:
    registered = lookup(model)
    availability = (
        "unknown" if registered is None else ("open_weights" if registered.open_weights else "closed_weights")
    )
    info = {
        "name": registered.display_name if registered else model,
        "id": model,
        "additional_details": {"deployment_type": "unknown", "model_availability": availability},
    }
    if registered is not None:
        info["developer"] = registered.lab
    elif "/" not in model:
        info["developer"] = "unregistered"
    return info


def _location(source: str, model: str, run_id: str) -> tuple[Path, str]:
    """`data/<collection>/<developer>/<model>` as the datastore derives it from the id, and the file's uuid."""
    parts = [p.replace(":", "_") for p in model.split("/") if p]
    if len(parts) >= 2:
        developer, name = parts[0], "_".join(parts[1:])
    else:
        registered = lookup(model)
        developer, name = (registered.lab if registered else "unregistered"), parts[0]
    digest = hashlib.sha256(f"{source}|{run_id}|{model}".encode()).digest()[:16]
    return Path("data") / source / developer / name, str(uuid.UUID(bytes=digest, version=4))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def files(exported: list[Exported]) -> Iterator[Path]:
    for e in exported:
        yield e.aggregate
        if e.samples is not None:
            yield e.samples
