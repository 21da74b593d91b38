"""`evalhouse rerun`: the one command for cron or a systemd timer.

Under the rerun lock: resume every spec in `experiments/*.toml` (collect only what is missing, ask again
for what failed), build the warehouse, refresh the analysis outputs in `data/outputs/`. Running it twice
in a row does nothing the second time but rebuild and redraw. Each step that fails is logged and named by
the exit code; a failed spec does not stop the others, and a failed build leaves the old warehouse.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from enum import IntEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from evalhouse.build import BuildError, build
from evalhouse.config import API_KEY_ENV, Paths, api_key
from evalhouse.files import DiskFull, write_atomic
from evalhouse.ingest.collector import RunAborted, RunConfig, collect
from evalhouse.ingest.spec import SpecError
from evalhouse.ingest.store import UnreadableStore, load_state
from evalhouse.ingest.transport import unreachable as unreachable_url

from .lock import LockHeld, RerunLock
from .logs import rerun_logging
from .plan import load_configs, plan
from .status import LAST_RERUN

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class ExitCode(IntEnum):
    """What `evalhouse rerun` exits with; the README's table says the same."""

    OK = 0  # every spec resumed, warehouse built, outputs refreshed
    USER_ERROR = 1  # no specs, or a spec is not valid: nothing was run
    USAGE = 2  # a bad command-line option (click)
    COLLECT_FAILED = 3  # a spec could not be collected (endpoint unreachable, crash); the rest still ran
    BUILD_FAILED = 4  # dbt build failed; the previous warehouse is untouched
    OUTPUTS_FAILED = 5  # built, but an analysis output could not be refreshed
    LOCKED = 75  # another rerun holds the lock (EX_TEMPFAIL): nothing was done

    @property
    def outcome(self) -> str:
        return self.name.lower().replace("_", " ")


@dataclass
class SpecOutcome:
    spec: str
    run_id: str | None = None
    stored: int = 0
    requests: int = 0
    executions: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    skipped: str | None = None  # why nothing was collected
    failure: str | None = None


@dataclass
class RerunResult:
    exit_code: ExitCode
    started_at: str
    finished_at: str = ""
    log_file: str = ""
    specs: list[SpecOutcome] = field(default_factory=list)
    build_seconds: float | None = None
    outputs: list[str] = field(default_factory=list)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(exit_code=int(self.exit_code), outcome=self.exit_code.outcome)
        return data


def rerun(paths: Paths, experiments: Path, log_file: Path | None = None, quiet: bool = False) -> RerunResult:
    """Take the lock and run every step; the result's exit_code says how it went."""
    log_file = log_file or paths.logs / "rerun.log"
    result = RerunResult(ExitCode.OK, _now(), log_file=str(log_file))
    with rerun_logging(log_file, _secrets(), quiet) as log:
        lock = RerunLock(paths.data)
        try:
            stale = lock.acquire()
        except LockHeld as exc:
            log.error(str(exc))
            result.exit_code, result.message = ExitCode.LOCKED, str(exc)
            return result
        try:
            if stale:
                log.warning(
                    f"recovered a stale lock left by {stale.describe()}: that rerun was killed; "
                    "its shards are complete or absent, and this run resumes where it stopped"
                )
            _run_locked(paths, experiments, log, result, progress=not quiet and sys.stderr.isatty())
            result.finished_at = _now()
            log.info(f"rerun finished: exit {int(result.exit_code)} ({result.exit_code.outcome}); log {log_file}")
            _write_json(paths.logs / LAST_RERUN, result.to_dict())
        finally:
            lock.release()
    return result


def _run_locked(paths: Paths, experiments: Path, log: logging.Logger, result: RerunResult, progress: bool) -> None:
    log.info(f"rerun started in {Path.cwd()} (data {paths.data}, warehouse {paths.warehouse})")
    try:
        configs = load_configs(experiments)
    except SpecError as exc:
        log.error(str(exc))
        result.exit_code, result.message = ExitCode.USER_ERROR, str(exc)
        return
    log.info(f"{len(configs)} spec(s) in {experiments}: {', '.join(p.name for p, _ in configs)}")
    try:
        state = load_state(paths.stored(paths.responses))
    except UnreadableStore as exc:
        log.error(f"{exc} (no spec is collected)")
        result.exit_code, configs = ExitCode.COLLECT_FAILED, []
    for spec, config in configs:
        todo = plan(spec, config, state)
        log.info(todo.describe())
        outcome = SpecOutcome(str(spec))
        result.specs.append(outcome)
        if not todo.todo:
            outcome.skipped = "nothing missing"
            continue
        _collect(spec, replace(config, progress=progress), paths, log, outcome)
        if outcome.failure:
            result.exit_code = ExitCode.COLLECT_FAILED

    log.info("building the warehouse (dbt build)")
    try:
        built = build(paths)
    except BuildError as exc:
        log.error(f"{exc}\nthe previous warehouse is untouched; outputs not refreshed")
        result.exit_code, result.message = ExitCode.BUILD_FAILED, str(exc).splitlines()[0]
        return
    result.build_seconds = round(built.seconds, 2)
    log.info(f"built {built.warehouse} ({built.mode}: {built.reason}) in {built.seconds:.1f}s")

    try:
        result.outputs = [str(p) for p in refresh_outputs(paths, experiments, log)]
    except Exception as exc:  # any failure here must still end in a logged exit code, not a dead cron job
        log.exception(f"refreshing the analysis outputs failed: {exc}")
        if result.exit_code == ExitCode.OK:
            result.exit_code, result.message = ExitCode.OUTPUTS_FAILED, str(exc)


def _collect(spec: Path, config: RunConfig, paths: Paths, log: logging.Logger, outcome: SpecOutcome) -> None:
    down = unreachable(config.base_url)
    if down:
        outcome.failure = f"endpoint {config.base_url} unreachable ({down})"
        log.error(f"{spec.name}: {outcome.failure}; skipped, nothing stored")
        return
    key = api_key()
    if key is None and urlsplit(config.base_url).hostname not in LOOPBACK:
        log.warning(
            f"{spec.name}: no API key in {' or '.join(API_KEY_ENV)}; {config.base_url} may refuse every request"
        )
    try:
        run_id, summary = collect(config, paths, key, None)
    except (RunAborted, DiskFull) as exc:  # the endpoint refused the run, the pre-flight stopped it, the disk is full
        outcome.failure = str(exc)
        log.error(f"{spec.name}: {exc}")
        return
    except Exception as exc:  # one spec's crash must not stop the others; what it stored is kept
        outcome.failure = f"{type(exc).__name__}: {exc}"
        log.exception(f"{spec.name}: collection failed: {exc}")
        return
    outcome.run_id, outcome.stored = run_id, summary.done
    outcome.requests, outcome.executions = summary.requests, summary.executions
    outcome.errors = dict(summary.errors)
    log.info(f"{spec.name}: run {run_id}")
    for line in summary.lines():
        log.info(f"  {line}")
    if summary.errors:
        total = sum(summary.errors.values())
        log.warning(
            f"{spec.name}: {total} response(s) still failed after retries "
            f"({_counts(summary.errors)}); the next rerun asks again"
        )


def unreachable(base_url: str, timeout_s: float = 10.0) -> str | None:
    """Why the endpoint cannot be reached, or None. Any HTTP answer, even 401 or 404, means reachable.

    Checked once per spec so an endpoint that is down costs one line in the log, not an error row per
    request after every retry.
    """
    return unreachable_url(base_url.rstrip("/") + "/models", timeout_s)


def refresh_outputs(paths: Paths, experiments: Path, log: logging.Logger) -> list[Path]:
    """The analyses (`data/outputs/analysis/`: JSON, text, LaTeX, figures), validation.json and report.html."""
    from .report import (  # scipy and statsmodels: loaded after the lock, not before
        NothingToReport,
        build_report,
        write_report,
    )

    out = paths.outputs
    try:
        report = build_report(paths, experiments, analysis_dir=out / "analysis")
    except NothingToReport as exc:
        log.info(f"outputs not refreshed: {exc}")
        return []
    written = list(report.analysis.written)
    for name, reason in sorted(report.analysis.skipped.items()):
        log.info(f"not analysed: {name}: {reason}")
    for name, obj in report.results.items():
        written.append(_write_json(out / f"{name}.json", obj.to_dict()))
    validation = report.results.get("validation")
    if validation is not None:
        level = logging.INFO if validation.passed else logging.WARNING
        log.log(
            level,
            "validation: "
            + (
                "all checks passed"
                if validation.passed
                else f"failed {', '.join(validation.failed)} (see `evalhouse validate`)"
            ),
        )
    written.append(write_report(report, out / "report.html"))
    log.info(f"refreshed {len(written)} output(s) in {out}, report {out / 'report.html'}")
    return written


def _secrets() -> list[str]:
    return [os.environ[name] for name in API_KEY_ENV if os.environ.get(name)]


def _counts(counter: Counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counter.items()))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _write_json(target: Path, data: dict[str, Any]) -> Path:
    return write_atomic(target, json.dumps(_jsonable(data), indent=2, allow_nan=False, default=str) + "\n")
