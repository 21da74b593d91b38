"""Sliding window vs batch barrier under heavy-tailed latency.

The synthetic endpoint runs in its own process with lognormal latency (median 200 ms, sigma 1, so a
mean of 200·e^0.5 ≈ 330 ms and a long tail). The collector keeps 64 requests in flight; the bound is
concurrency ÷ mean latency. The run is timed whole (planning, first Parquet write, the tail of the
last slow answers), which is why it is long: a run of 12,000 requests loses ~8% to its ends. The baseline, measured in the same run with the same client and requests,
sends batches of 64 and waits for each whole batch (its slowest request) before the next.

    .venv/bin/python bench/collector_window.py             # 24,000 requests, 40 baseline batches
    .venv/bin/python bench/collector_window.py --n 20 --batches 10   # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import subprocess
import tempfile
import time
from pathlib import Path

from collector_util import EVALHOUSE, MODELS, endpoint, load

KINDS, DIGITS = ["add", "sub", "mul"], [2, 3, 4, 5]
MEDIAN_MS, SIGMA = 200.0, 1.0


async def batch_barrier(url: str, bodies: list[bytes], size: int) -> tuple[float, int]:
    """Send `bodies` in batches of `size`, each batch waiting for its slowest request."""
    from evalhouse.ingest.client import ChatClient
    from evalhouse.ingest.providers.openai_chat import OpenAIChat

    client = ChatClient(OpenAIChat(), url, None, pool=size)
    start = time.perf_counter()
    try:
        for i in range(0, len(bodies), size):
            await asyncio.gather(*(client.complete(b) for b in bodies[i : i + size]))
    finally:
        await client.aclose()
    return time.perf_counter() - start, len(bodies)


def baseline_bodies(count: int) -> list[bytes]:
    import json

    from evalhouse.ingest import prompts
    from evalhouse.ingest.problems import generate
    from evalhouse.ingest.providers.openai_chat import OpenAIChat

    problems = list(generate(KINDS, DIGITS, math.ceil(count / (len(KINDS) * len(DIGITS)))))[:count]
    return [
        json.dumps(
            OpenAIChat().build_request(MODELS[0], prompts.messages("nl", p), seed=0, temperature=0.0, max_tokens=4096)
        ).encode()
        for p in problems
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="instances per kind and digit [200: 24,000 requests]")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--batches", type=int, default=40, help="baseline batches [40]")
    args = parser.parse_args()

    import duckdb

    from evalhouse.config import Paths
    from evalhouse.ingest.collector import RunConfig, collect

    root = Path(tempfile.mkdtemp(prefix="evalhouse-bench-window-"))
    paths = Paths(data=root / "data", warehouse=root / "w.duckdb")
    env = {**os.environ, "EVALHOUSE_DATA": str(paths.data)}
    subprocess.run(
        [
            *EVALHOUSE,
            "problems",
            "generate",
            "--kinds",
            ",".join(KINDS),
            "--digits",
            ",".join(map(str, DIGITS)),
            "--n",
            str(args.n),
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    requests = len(MODELS) * 2 * len(KINDS) * len(DIGITS) * args.n
    mean_ms = MEDIAN_MS * math.exp(SIGMA**2 / 2)
    print(
        f"window benchmark: lognormal latency median {MEDIAN_MS:.0f} ms, sigma {SIGMA} (mean {mean_ms:.0f} ms), "
        f"concurrency {args.concurrency}; {load()}"
    )

    with endpoint(paths.problems, "--latency-ms", str(MEDIAN_MS), "--latency-sigma", str(SIGMA)) as (url, _):
        config = RunConfig(
            models=MODELS,
            kinds=KINDS,
            digits=DIGITS,
            n=args.n,
            seeds=[0],
            arms=["nl", "sim"],
            base_url=url,
            concurrency=args.concurrency,
            progress=False,
        )
        start = time.perf_counter()
        _, summary = collect(config, paths, api_key=None)
        wall = time.perf_counter() - start
        assert summary.done == requests and not summary.errors, summary.lines()
        base_wall, base_n = asyncio.run(
            batch_barrier(url, baseline_bodies(args.batches * args.concurrency), args.concurrency)
        )

    observed_ms = duckdb.sql(f"select avg(latency_ms) from read_parquet('{paths.responses}/**/*.parquet')").fetchone()[
        0
    ]
    window = requests / wall
    baseline = base_n / base_wall
    bound = args.concurrency / (mean_ms / 1000)
    bound_observed = args.concurrency / (observed_ms / 1000)
    print(f"  sliding window: {requests} requests in {wall:.1f}s = {window:.1f} req/s")
    print(
        f"  bound concurrency/mean latency: {bound:.1f} req/s (lognormal mean {mean_ms:.0f} ms), "
        f"{bound_observed:.1f} req/s (mean latency seen by the client {observed_ms:.0f} ms)"
    )
    print(
        f"  window / bound: {window / bound:.1%} of the lognormal bound, {window / bound_observed:.1%} of the observed"
    )
    print(
        f"  batch barrier ({args.concurrency} per batch): {base_n} requests in {base_wall:.1f}s = {baseline:.1f} req/s"
    )
    print(f"  window / batch barrier: {window / baseline:.2f}x")
    print(f"  after: {load()}")


if __name__ == "__main__":
    main()
