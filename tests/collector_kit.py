"""Helpers for the collector tests: a fast run config, the loopback endpoint with faults, stored rows."""

from __future__ import annotations

import contextlib
import sys

import duckdb

from evalhouse.config import Paths
from evalhouse.ingest.collector import RunConfig
from evalhouse.synthetic import ServerConfig, SyntheticServer

MODELS = ["synthetic/atlas-large", "synthetic/boreal-lite"]
# `evalhouse …` in a process of its own, run by this interpreter (so a test can kill it)
CLI = [sys.executable, "-c", "from evalhouse.cli import main; main()"]


def ingest_run(url: str, *options: str) -> list[str]:
    """`evalhouse ingest run` of the plan the subprocess tests share (2 models × add, lcs × digits 2, 3 × 6
    instances × seeds 0, 1, every arm), with `options` added."""
    plan = ["--model", MODELS[0], "--model", MODELS[1], "--kinds", "add,lcs", "--digits", "2,3", "--n", "6"]
    return [*CLI, "ingest", "run", "--base-url", url, *plan, "--seeds", "0,1", "--no-progress", *options]


def fast_config(url: str, **overrides) -> RunConfig:
    """A small plan with short timeouts and waits, so retry paths run in milliseconds."""
    settings = dict(
        models=MODELS[:1],
        kinds=["add"],
        digits=[2],
        n=4,
        seeds=[0],
        arms=["nl"],
        base_url=url,
        concurrency=8,
        progress=False,
        timeout_s=2.0,
        retry_wait_initial=0.01,
        retry_wait_max=0.05,
        checkpoint_every=7,
    )
    settings.update(overrides)
    return RunConfig(**settings)


@contextlib.contextmanager
def endpoint(paths: Paths, **config):
    """The loopback endpoint, recognising the problems the collector writes under `paths`."""
    with SyntheticServer(ServerConfig(problems=paths.problems, **config)) as server:
        yield server


def stored(paths: Paths, columns: str = "*", where: str = "true") -> list[tuple]:
    """Rows in every response shard under `paths`."""
    glob = paths.responses / "**" / "*.parquet"
    if not any(paths.responses.rglob("*.parquet")):
        return []
    return duckdb.sql(f"select {columns} from read_parquet('{glob}', union_by_name = true) where {where}").fetchall()
