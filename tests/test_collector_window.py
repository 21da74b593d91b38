"""The sliding window and the client-side rate limits."""

from __future__ import annotations

import asyncio
import time

import pyarrow.parquet as pq

from evalhouse.ingest.collector import collect
from evalhouse.ingest.ratelimit import Bucket, Limits

from .collector_kit import endpoint, fast_config


def test_window_is_kept_full_and_never_exceeded(workdir):
    """With concurrency 6 the endpoint sees exactly 6 requests in flight at the busiest moment."""
    with endpoint(workdir, latency_ms=30) as server:
        _, summary = collect(fast_config(server.url, n=60, concurrency=6), workdir, None)
        assert server.max_in_flight == 6
    assert summary.done == 60 and summary.requests == 60


def _stored_in_order(workdir) -> list[dict]:
    rows = []
    for shard in sorted(workdir.responses.rglob("part-*.parquet")):
        rows += pq.read_table(shard, columns=["response_id", "latency_ms"]).to_pylist()
    return rows


def test_a_straggler_holds_one_slot_not_a_batch(workdir):
    """A request answered a second late is stored after the others: they went on in the other slots."""
    with endpoint(workdir, latency_ms=20, script=["slow"], slow_s=1.0) as server:
        collect(fast_config(server.url, n=40, concurrency=4, checkpoint_every=1000), workdir, None)
    rows = _stored_in_order(workdir)
    slow = [i for i, r in enumerate(rows) if r["latency_ms"] >= 1000]
    assert len(rows) == 40 and len(slow) == 1
    assert slow[0] >= 36, f"the straggler was stored {slow[0] + 1}th of 40"


def test_bucket_paces_and_a_settled_debt_delays_the_next_request():
    """10/s with a one-second burst: the burst goes at once; a debt of 10 units delays the next by 1.1 s."""

    async def scenario() -> tuple[float, float]:
        bucket = Bucket(600)
        start = time.perf_counter()
        await bucket.take(10)
        burst = time.perf_counter() - start
        bucket.settle(10)
        await bucket.take(1)
        return burst, time.perf_counter() - start

    burst, after_debt = asyncio.run(scenario())
    assert burst < 0.05 and after_debt >= 1.05  # (1 - (-10)) / 10 per second


def test_token_estimates_learn_the_typical_completion():
    """A request reserves ~prompt/4 plus the running mean of completions seen so far."""
    limits = Limits(None, 60_000, max_tokens=4096)
    assert limits.estimate(400) == 100 + 512
    for tokens in (100, 100, 100):
        limits.settle(612, 200, tokens)
    assert limits.estimate(400) == 200.0


def test_tokens_per_minute_paces_by_reported_usage(workdir):
    """At 30,000 tokens/min the run takes at least the time its reported usage needs; reservations (a
    prompt and a typical completion each) are settled with that usage, or 12 requests would take 11 s."""
    with endpoint(workdir) as server:
        _, summary = collect(fast_config(server.url, n=12, concurrency=4, tokens_per_minute=30_000), workdir, None)
    used = summary.prompt_tokens + summary.completion_tokens
    assert summary.done == 12 and used > 1000
    assert (used - 500) / 500 * 0.9 <= summary.elapsed_s < 8
