"""Retries, error rows and malformed answers against the loopback endpoint."""

from __future__ import annotations

import time

import pytest

from evalhouse.ingest.collector import RunAborted, collect

from .collector_kit import endpoint, fast_config, stored

FAKE_KEY = "sk-or-v1-test-0000000000000000000000000000000000000000000000000000000000000000"


def test_retry_after_in_seconds_is_waited_out(workdir):
    """A 429 with Retry-After: 1 delays the next attempt by at least a second; the answer is then stored."""
    with endpoint(workdir, script=["429"], retry_after="1") as server:
        start = time.perf_counter()
        _, summary = collect(fast_config(server.url, n=1), workdir, None)
        elapsed = time.perf_counter() - start
    assert elapsed >= 1.0
    assert summary.retries == {"rate_limited": 1} and not summary.errors
    assert stored(workdir, "attempt, error") == [(2, None)]


def test_retry_after_as_http_date_is_waited_out(workdir):
    """A Retry-After given as an HTTP date two seconds ahead delays the next attempt by at least one."""
    with endpoint(workdir, script=["429"], retry_after="date:2") as server:
        start = time.perf_counter()
        collect(fast_config(server.url, n=1), workdir, None)
        assert time.perf_counter() - start >= 1.0
    assert stored(workdir, "attempt, error") == [(2, None)]


def test_retry_after_beyond_the_longest_wait_gives_up_at_once(workdir):
    """A Retry-After longer than max_retry_wait is not waited out: the request is stored as an error."""
    with endpoint(workdir, faults={"429": 1.0}, retry_after="3600") as server:
        start = time.perf_counter()
        _, summary = collect(fast_config(server.url, n=2, max_retry_wait=60), workdir, None)
    assert time.perf_counter() - start < 10
    assert summary.errors == {"rate_limited": 2}
    assert stored(workdir, "attempt, error_class, status_code") == [(1, "rate_limited", 429)] * 2


def test_exhausted_attempts_become_error_rows_and_retry_errors_asks_again(workdir):
    """After the last attempt a 500 is an error row; a later run asks again only with retry_errors."""
    with endpoint(workdir, faults={"500": 1.0}) as server:
        _, summary = collect(fast_config(server.url, max_attempts=3), workdir, None)
        assert server.stats["requests"] == 4 * 3
    assert summary.errors == {"server_error": 4} and summary.retries == {"server_error": 8}
    assert (
        stored(workdir, "attempt, error_class, status_code, error")
        == [(3, "server_error", 500, "Upstream provider unavailable")] * 4
    )

    with endpoint(workdir) as healthy:
        _, again = collect(fast_config(healthy.url), workdir, None)
        assert healthy.stats["requests"] == 0 and again.skipped == 4
        _, retried = collect(fast_config(healthy.url, retry_errors=True), workdir, None)
        assert healthy.stats["requests"] == 4 and retried.done == 4 and not retried.errors
        _, last = collect(fast_config(healthy.url, retry_errors=True), workdir, None)
        assert healthy.stats["requests"] == 4 and last.done == 0


def test_client_errors_are_not_retried(workdir):
    """A 404 (unknown model, past a skipped pre-flight) is stored as an error row after one attempt."""
    with endpoint(workdir) as server:
        config = fast_config(server.url, models=["synthetic/no-such-model"], n=2, preflight=False)
        _, summary = collect(config, workdir, None)
        assert server.stats["requests"] == 2
    assert summary.errors == {"client_error": 2}
    assert {r[0] for r in stored(workdir, "status_code")} == {404}


@pytest.mark.parametrize(
    "fault, error_class",
    [
        ("malformed", "malformed_body"),
        ("nochoices", "malformed_body"),
        ("error200", "provider_error"),
        ("choiceerr", "provider_error"),
        ("timeout", "timeout"),
        ("reset", "connection"),
        ("503", "server_error"),
    ],
)
def test_each_transient_fault_is_retried_then_answered(workdir, fault, error_class):
    """One fault of each kind costs one retry of its class; the answer that follows is stored."""
    with endpoint(workdir, script=[fault]) as server:
        _, summary = collect(fast_config(server.url, n=1, timeout_s=0.5), workdir, None)
    assert summary.retries == {error_class: 1} and not summary.errors
    assert stored(workdir, "attempt, error, verdict is not null") == [(2, None, True)]


def test_truncated_answer_is_stored_with_its_reason(workdir):
    """An answer cut off by max_tokens is stored once (no retry), unparsed, with reason `truncated`."""
    with endpoint(workdir, faults={"truncated": 1.0}) as server:
        _, summary = collect(fast_config(server.url, n=2), workdir, None)
        assert server.stats["requests"] == 2
    rows = stored(workdir, "error, finish_reason, parse_error, verdict")
    assert rows == [(None, "length", "truncated", "parse_error")] * 2
    assert not summary.errors


def test_empty_content_is_asked_again_then_kept_as_an_unreadable_answer(workdir):
    """Empty content is retried; still empty after the last attempt, it is an answer that cannot be read."""
    with endpoint(workdir, faults={"empty": 1.0}) as server:
        _, summary = collect(fast_config(server.url, n=1, max_attempts=3), workdir, None)
        assert server.stats["requests"] == 3
    assert stored(workdir, "error, attempt, response_text, parse_error, verdict") == [
        (None, 3, "", "empty_response", "parse_error")
    ]
    assert summary.retries == {"empty_content": 2} and not summary.errors


def test_a_rejected_key_stops_the_run_without_error_rows_or_the_key(workdir):
    """A 401 aborts the run: nothing is stored for it, and the message the provider echoed is scrubbed."""
    with endpoint(workdir, expect_key="the-right-key") as server:
        with pytest.raises(RunAborted) as info:
            collect(fast_config(server.url, n=20, concurrency=2), workdir, FAKE_KEY)
        assert server.stats["requests"] < 20
    assert "401" in str(info.value) and FAKE_KEY not in str(info.value) and "[redacted]" in str(info.value)
    assert stored(workdir) == []
    with endpoint(workdir, expect_key=FAKE_KEY) as server:
        _, summary = collect(fast_config(server.url, n=20), workdir, FAKE_KEY)
    assert summary.done == 20 and not summary.errors


def test_requests_per_minute_paces_the_run(workdir):
    """With 600 requests/min (a second's burst of 10), 30 requests take at least two seconds."""
    with endpoint(workdir) as server:
        start = time.perf_counter()
        _, summary = collect(fast_config(server.url, n=30, requests_per_minute=600), workdir, None)
        elapsed = time.perf_counter() - start
    assert summary.done == 30 and elapsed >= 1.9
