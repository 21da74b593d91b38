"""A run's records beside its data: the log file (`data/logs/ingest-<run>.log`) and the manifest (`run.json`).

The manifest names the run, its state (running, done, capped, aborted, interrupted, failed), its holder
(pid, host, start), its configuration and summary; `others_running` reads the manifests of the runs
sharing the data folder. On a full disk the log drops lines quietly (a traceback from the logging module
would bury the run's one `Error:` line), and a manifest that cannot be written while the run is already
failing does not hide why it failed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import socket
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import stamina.instrumentation

from evalhouse import __version__
from evalhouse.files import DiskFull, Holder, write_atomic

from . import prompts
from .problems import GENERATOR_VERSION
from .run_config import RunConfig
from .summary import Summary

log = logging.getLogger("evalhouse.collector")


class _QuietFileHandler(logging.FileHandler):
    def handleError(self, record: logging.LogRecord) -> None:  # a full disk: the line is lost, the run goes on
        pass


@contextlib.contextmanager
def run_records(
    logs: Path, folder: Path, run_id: str, config: RunConfig, summary: Summary
) -> Iterator[Callable[[str], None]]:
    """Log the run to its file while it lasts; yields `manifest(status)`, which rewrites `run.json`."""
    logs.mkdir(parents=True, exist_ok=True)
    handler = _QuietFileHandler(logs / f"ingest-{run_id}.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    old_level, old_hooks = log.level, stamina.instrumentation.get_on_retry_hooks()
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    stamina.instrumentation.set_on_retry_hooks([])  # retries are logged here, not on stderr
    started = datetime.now(timezone.utc).isoformat()
    settings = dataclasses.asdict(config)

    def manifest(status: str) -> None:
        doc = {
            "run_id": run_id,
            "status": status,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": started,
            "updated_at": datetime.now(timezone.utc).isoformat(),
            "evalhouse_version": __version__,
            "prompt_version": prompts.PROMPT_VERSION,
            "generator_version": GENERATOR_VERSION,
            "config": settings,
            "summary": summary.as_dict(),
        }
        try:
            write_atomic(folder / "run.json", json.dumps(doc, indent=2, default=str))
        except DiskFull:
            if status == "running":
                raise
            log.error("could not record the run's end in %s: the disk is full", folder / "run.json")

    try:
        yield manifest
    finally:
        log.removeHandler(handler)
        log.setLevel(old_level)
        stamina.instrumentation.set_on_retry_hooks(old_hooks)
        handler.close()


def others_running(root: Path, me: str) -> list[str]:
    """The other live runs under `root` (one folder per run), described from their manifests."""
    found = []
    for path in sorted(root.glob("run_id=*/run.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            holder = Holder(int(doc["pid"]), doc.get("host") or socket.gethostname(), doc["started_at"][:19])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if doc.get("run_id") != me and doc.get("status") == "running" and holder.is_alive():
            found.append(f"run {doc['run_id']}: {holder.describe()}")
    return found
