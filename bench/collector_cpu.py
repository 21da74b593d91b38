"""The collector's own CPU and memory per response, against a zero-latency endpoint.

The endpoint runs in its own process; `evalhouse ingest run` runs in another, and its user+sys CPU time
and peak RSS are read from `wait4` (that process alone: Parquet writes, journal, grading, HTTP). The
baseline, measured in the same run and the same way, is a bare aiohttp loop posting the same requests
through the same window and parsing the JSON answers, storing nothing.

    .venv/bin/python bench/collector_cpu.py                # 100,080 responses
    .venv/bin/python bench/collector_cpu.py --n 20         # a quick look (7,200 responses)

The code arm is left out: its programs run in sandbox subprocesses, whose CPU is not the collector's.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import operator
import os
import sys
import tempfile
import time
from pathlib import Path

from collector_util import ARMS, DIGITS, EVALHOUSE, KINDS, MODELS, SEEDS, endpoint, load, run_measured


def bodies(n: int) -> list[bytes]:
    """Request bodies like the collector's (nl and sim prompts of the same problems)."""
    from evalhouse.ingest import prompts
    from evalhouse.ingest.problems import generate
    from evalhouse.ingest.providers.openai_chat import OpenAIChat

    problems = list(generate(KINDS.split(","), [int(d) for d in DIGITS.split(",")], n))
    out = []
    for model in MODELS:
        for seed in (0, 1):
            for problem in problems:
                for arm in ("nl", "sim"):
                    messages = prompts.messages(arm, problem)
                    body = OpenAIChat().build_request(model, messages, seed=seed, temperature=0.0, max_tokens=4096)
                    out.append(json.dumps(body).encode())
    return out


async def bare(url: str, n: int, concurrency: int) -> None:
    import aiohttp

    window = asyncio.Semaphore(concurrency)
    room = asyncio.Semaphore(2 * concurrency)
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency), headers={"Content-Type": "application/json"}
    ) as session:

        async def one(body: bytes) -> None:
            try:
                async with window, session.post(url + "/chat/completions", data=body) as response:
                    json.loads(await response.read())
            finally:
                room.release()

        tasks = set()
        for body in bodies(n):
            await room.acquire()
            task = asyncio.create_task(one(body))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=278, help="instances per kind and digit [278: 100,080 responses]")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--bare", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        asyncio.run(bare(args.bare, args.n, args.concurrency))
        return

    root = Path(tempfile.mkdtemp(prefix="evalhouse-bench-cpu-"))
    env = {**os.environ, "EVALHOUSE_DATA": str(root / "data"), "EVALHOUSE_WAREHOUSE": str(root / "w.duckdb")}
    env.pop("EVALHOUSE_API_KEY", None)
    problems = root / "data" / "raw" / "problems"
    subprocess_problems = [*EVALHOUSE, "problems", "generate", "--kinds", KINDS, "--digits", DIGITS, "--n", str(args.n)]
    run_measured(subprocess_problems, env)
    responses = len(MODELS) * 3 * 4 * args.n * 2 * 3
    print(f"collector CPU benchmark: {responses} responses, window {args.concurrency}; {load()}")

    with endpoint(problems) as (url, _):
        _wall_b, cpu_b, rss_b, rc = run_measured(
            [sys.executable, __file__, "--bare", url, "--n", str(args.n), "--concurrency", str(args.concurrency)], env
        )
        assert rc == 0, "the bare baseline failed"
        requests_b = len(MODELS) * 3 * 4 * args.n * 2 * 2
        log = root / "collector.stderr"
        with open(log, "w") as stderr:
            wall, cpu, rss, rc = run_measured(
                [
                    *EVALHOUSE,
                    "ingest",
                    "run",
                    "--base-url",
                    url,
                    *functools.reduce(operator.iadd, (["--model", m] for m in MODELS), []),
                    "--kinds",
                    KINDS,
                    "--digits",
                    DIGITS,
                    "--n",
                    str(args.n),
                    "--seeds",
                    SEEDS,
                    "--arms",
                    ARMS,
                    "--concurrency",
                    str(args.concurrency),
                    "--progress",
                ],
                env,
                stderr=stderr,
            )
        assert rc == 0, f"the collector failed: see {log}"

    import duckdb

    stored = duckdb.sql(
        f"select count(*), count(distinct response_id), count(error) from "
        f"read_parquet('{root}/data/raw/responses/**/*.parquet')"
    ).fetchone()
    per = cpu / responses * 1000
    per_b = cpu_b / requests_b * 1000
    print(f"  stored rows {stored[0]}, distinct ids {stored[1]}, error rows {stored[2]}")
    print(
        f"  collector: {wall:.1f}s wall, {responses / wall:.0f} responses/s, CPU {cpu:.1f}s = {per:.3f} ms/response, "
        f"peak RSS {rss:.0f} MB"
    )
    print(f"  baseline (bare aiohttp loop, {requests_b} requests): CPU {per_b:.3f} ms/request, peak RSS {rss_b:.0f} MB")
    print(
        f"  collector CPU / baseline CPU per response: {per / per_b:.2f}x; budget 1 ms: "
        f"{'met' if per <= 1.0 else 'NOT met'}; memory budget 300 MB: {'met' if rss < 300 else 'NOT met'}"
    )
    print(f"  after: {load()}")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"  (benchmark took {time.perf_counter() - t0:.0f}s)")
