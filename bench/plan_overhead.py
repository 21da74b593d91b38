"""What the pre-flight adds to the start of a run: `Collector.plan()` against the planning a run does anyway.

Collects a slice of a large plan from the loopback endpoint (so the estimate reads stored usage), then
times, in the same process, (a) the run's own planning (problems, stored state, work list) and (b) the
whole plan (a + GET /models + GET /key + stored usage + the estimate and checks). Prints both and their
ratio.

    python bench/plan_overhead.py --models 5 --n 30 --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from evalhouse.config import Paths
from evalhouse.ingest import work
from evalhouse.ingest.collector import Collector, RunConfig, collect
from evalhouse.ingest.store import load_state
from evalhouse.synthetic import CATALOG, ServerConfig, SyntheticServer


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=5)
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="plan-bench-"))
    paths = Paths(root / "data", root / "w.duckdb")
    models = list(CATALOG)[: args.models]
    seeds = [int(s) for s in args.seeds.split(",")]
    with SyntheticServer(ServerConfig(problems=paths.problems)) as server:
        plan = dict(
            models=models,
            kinds=["add", "sub", "mul", "lcs", "knap", "rod"],
            digits=[2, 4, 8],
            n=args.n,
            seeds=seeds,
            base_url=server.openrouter_url,
            progress=False,
            concurrency=64,
        )
        collect(RunConfig(**{**plan, "n": max(1, args.n // 10)}), paths, None)  # a tenth stored
        config = RunConfig(**plan)

        def planning() -> int:
            return len(work.units(config, work.problems(config), load_state(paths.responses))[0])

        def whole_plan() -> int:
            return Collector(config, paths, None).plan().requests

        units, requests = planning(), whole_plan()
        base = best_of(planning, args.repeat)
        full = best_of(whole_plan, args.repeat)
    print(f"plan: {len(models)} models, {units:,} units with work, {requests:,} requests to ask")
    print(f"run's own planning  {base * 1000:8.1f} ms")
    print(
        f"whole plan          {full * 1000:8.1f} ms   ({full / base:.2f}x; pre-flight adds {(full - base) * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
