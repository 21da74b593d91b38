"""Where a legacy import spends its time: wall and CPU seconds per step of a batch.

    python bench/import_profile.py /tmp/legacy-1gb/copies [--workers 1] [--threads 1]

Imports into a throwaway data folder. CPU is the whole process's (DuckDB's threads included), so with
one worker and one DuckDB thread the steps add up to the total.
"""

from __future__ import annotations

import argparse
import functools
import resource
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from evalhouse.config import Paths
from evalhouse.ingest.importers import Options, answers, batch, import_paths, jsonl_fast, output

STEPS = [
    (jsonl_fast, "sniff"),
    (jsonl_fast, "load"),
    (batch.Batch, "_load_records"),
    (batch.Batch, "_check"),
    (batch.Batch, "_identify"),
    (batch.Batch, "_read_answers"),
    (answers, "python_replies"),
    (batch.Batch, "_problems"),
    (batch.Batch, "_stage_responses"),
    (output.BatchWriter, "prepare"),
    (batch.Batch, "_choose_copies"),
    (batch.Batch, "_publish"),
]


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(owner, name: str, totals: dict) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        wall, used = time.perf_counter(), cpu()
        try:
            return original(*args, **kwargs)
        finally:
            totals[name][0] += time.perf_counter() - wall
            totals[name][1] += cpu() - used

    setattr(owner, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    totals: dict = defaultdict(lambda: [0.0, 0.0])
    for owner, name in STEPS:
        timed(owner, name, totals)
    root = Path(tempfile.mkdtemp(prefix="evalhouse-profile-"))
    try:
        wall, used = time.perf_counter(), cpu()
        summary = import_paths(
            [args.data],
            Paths(root / "data", root / "evalhouse.duckdb"),
            Options(progress=False, workers=args.workers, threads=args.threads),
        )
        wall, used = time.perf_counter() - wall, cpu() - used
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for name, (w, c) in totals.items():
        print(f"{name:20s} wall {w:7.2f} s   cpu {c:7.2f} s")
    print(f"{'total':20s} wall {wall:7.2f} s   cpu {used:7.2f} s   ({summary.total('responses')} responses)")


if __name__ == "__main__":
    main()
