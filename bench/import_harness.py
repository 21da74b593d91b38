"""Harness import speed: `evalhouse ingest import` of a 100,000-sample inspect log against
`inspect_ai.log.read_eval_log` + pandas on the same file.

The log is written by inspect's own recorder (tests/harness_logs.py, `big_log`: a real mockllm run's
samples repeated under new ids, written into the zip in batches), once, and kept. Both sides
then run in this same invocation, alternately, each in its own process so that its time, CPU time and
peak memory (max RSS) are its own, from process start to exit (library imports included):

- baseline: `read_eval_log(path)` (every sample, validated into inspect's pydantic models), then one
  pandas DataFrame row per sample × scorer with id, epoch, scorer, value, answer, input, target and
  output text: the fields the import keeps, and no more.
- import: `evalhouse ingest import path` into an empty data folder: detection, every sample member
  read and parsed, scores mapped to floats, model resolved, Parquet shards written atomically,
  manifest, summary.

    python bench/import_harness.py [--samples 100000] [--log /tmp/inspect-100k.eval] [--repeat 3]

The machine may be shared: the load average is printed with every measurement, and the figure to
quote is the median ratio of the pairs, each measured back to back.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from import_bench import load, measure

BASELINE = """
import sys
import pandas as pd
from inspect_ai.log import read_eval_log
log = read_eval_log(sys.argv[1])
rows = [
    {"id": s.id, "epoch": s.epoch, "scorer": name, "value": score.value, "answer": score.answer,
     "input": s.input if isinstance(s.input, str) else str(s.input), "target": s.target,
     "output": s.output.completion if s.output else None}
    for s in log.samples or [] for name, score in (s.scores or {}).items()
]
print(len(pd.DataFrame(rows)))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--log", type=Path, default=Path(tempfile.gettempdir()) / "inspect-100k.eval")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.log.exists():
        from tests.harness_logs import big_log

        print(f"writing {args.samples} samples to {args.log} with inspect's recorder …", flush=True)
        big_log(args.log, args.samples)
    size = args.log.stat().st_size
    print(f"log: {args.log} ({size / 1e6:.1f} MB, {args.samples} samples)")
    python = sys.executable
    evalhouse = str(Path(python).with_name("evalhouse"))
    ratios, cpu_ratios = [], []
    for _ in range(args.repeat):
        base = measure([python, "-c", BASELINE, str(args.log)])
        data = Path(tempfile.mkdtemp(prefix="harness-bench-"))
        try:
            env = {**__import__("os").environ, "EVALHOUSE_DATA": str(data)}
            ours = measure([evalhouse, "ingest", "import", str(args.log), "--no-progress"], env=env)
        finally:
            shutil.rmtree(data, ignore_errors=True)
        assert base[3].strip() == str(args.samples), base[3]
        assert f"records: {args.samples} read = {args.samples} loaded" in ours[3], ours[3]
        ratios.append(base[0] / ours[0])
        cpu_ratios.append(base[1] / ours[1])
        print(
            f"read_eval_log+pandas {base[0]:6.1f} s ({base[1]:6.1f} CPU-s, {base[2]:6.0f} MiB)  |  "
            f"ingest import {ours[0]:6.1f} s ({ours[1]:6.1f} CPU-s, {ours[2]:6.0f} MiB)  |  "
            f"{ratios[-1]:.1f}× faster ({cpu_ratios[-1]:.1f}× less CPU), {base[2] / ours[2]:.1f}× less memory  [{load()}]",
            flush=True,
        )
    print(f"median: {statistics.median(ratios):.1f}× faster, {statistics.median(cpu_ratios):.1f}× less CPU")


if __name__ == "__main__":
    main()
