"""A whole collection against the loopback endpoint with injected faults on 10% of requests."""

from __future__ import annotations

import duckdb
import pytest

from evalhouse.ingest.collector import collect, response_id
from evalhouse.synthetic.server import TRANSIENT_FAULTS

from .collector_kit import MODELS, endpoint, fast_config, stored

pytestmark = pytest.mark.slow


def _plan(workdir, url, **overrides):
    return fast_config(
        url,
        models=MODELS,
        kinds=["add", "lcs"],
        digits=[2, 3],
        n=4,
        seeds=[0, 1],
        arms=["nl", "sim", "controlsim", "code"],
        concurrency=16,
        timeout_s=0.4,
        **overrides,
    )


def _expected_ids(workdir, config) -> set[str]:
    problems = duckdb.sql(f"select problem_id from read_parquet('{workdir.problems}/*.parquet')").fetchall()
    return {
        response_id(m, p, a, s, 0)
        for m in config.models
        for (p,) in problems
        for a in config.arms
        for s in config.seeds
    }


def test_ten_percent_faults_every_response_stored_once(workdir):
    """With 10% of requests failing (429+Retry-After, 500, 503, timeouts, resets, cut-off JSON) the run
    completes: every planned response is stored exactly once, as an answer or as an error row that used
    all its attempts."""
    with endpoint(
        workdir, faults={f: 0.10 / len(TRANSIENT_FAULTS) for f in TRANSIENT_FAULTS}, retry_after="1", seed=7
    ) as server:
        config = _plan(workdir, server.url)
        _, summary = collect(config, workdir, None)
        faults = sum(v for k, v in server.stats.items() if k.startswith("fault:") and k != "fault:None")
    expected = _expected_ids(workdir, config)
    rows = stored(workdir, "response_id, error, attempt, error_class")
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)) == len(expected) == 2 * 2 * 2 * 4 * 2 * 4
    assert set(ids) == expected
    assert faults >= 10 and sum(summary.retries.values()) >= faults - 1  # a timeout may outlive the run's end
    for _, error, attempt, error_class in rows:
        assert error is None or (attempt == config.max_attempts and error_class)
    assert summary.done == len(expected) and summary.pending == 0


def test_heavy_faults_leave_explicit_error_rows_that_a_later_run_completes(workdir):
    """At 60% faults and 2 attempts some requests fail for good: each is an error row with its class and
    attempts, its dependent arms stay pending (not stored), and `retry_errors` finishes the plan."""
    with endpoint(workdir, faults={"500": 0.3, "reset": 0.15, "malformed": 0.15}, seed=3) as server:
        config = _plan(workdir, server.url, max_attempts=2)
        _, first = collect(config, workdir, None)
    errors = stored(workdir, "arm, attempt, error_class, status_code", "error is not null")
    assert errors and all(attempt == 2 for _, attempt, _, _ in errors)
    # (a timeout can happen too when the loaded test machine lags past the 0.4 s timeout)
    assert {cls for _, _, cls, _ in errors} <= {"server_error", "connection", "malformed_body", "timeout"}
    assert first.pending == 2 * sum(1 for arm, *_ in errors if arm == "sim")
    assert first.done + first.pending == first.planned

    with endpoint(workdir) as healthy:
        _, second = collect(
            config.__class__(**{**config.__dict__, "base_url": healthy.url, "retry_errors": True}), workdir, None
        )
    expected = _expected_ids(workdir, config)
    answered = stored(workdir, "response_id", "error is null")
    assert len(answered) == len({r[0] for r in answered}) == len(expected)
    assert second.done == len(errors) + first.pending


def test_the_endpoint_refuses_unknown_faults():
    """A misspelt fault is an error naming the known ones, not a silently healthy endpoint."""
    from evalhouse.synthetic import ServerConfig

    with pytest.raises(ValueError, match=r"unknown fault.*timout.*faults are 429"):
        ServerConfig(faults={"timout": 0.1})
