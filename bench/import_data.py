"""Generate a large legacy dataset by replicating the shared res.jsonl files (and the CSVs).

Two shapes (`--shape`):

- `copies`: copy j of each shared file keeps every byte except its run id (`exp_id` gets a `_r<j>`
  suffix, and so does the run folder), so each copy is a distinct run. Files are as small as the
  shared ones (18-row screening runs of 0.1 MB up to 3.6 MB).
- `runs` (default): main-run-sized files, like the paper's runs (4 MiB and more, README §1): each
  file repeats one shared file until it holds about 12 MB, repetition k shifting `index_in_kind`
  by 1000·k, so it is one larger run of distinct instances.

Files are written under OUT/<shape>/copy<j>/<the file's path in the shared folder>.

    python bench/import_data.py --gb 1.0 --out /tmp/legacy-1gb [--shape runs|copies] [--csv-mb 100]
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "realdata" / "toolproj"
EXP_ID = re.compile(rb'"exp_id": "(run_\d{8}_\d{6})"')
INDEX = re.compile(rb'"index_in_kind": (\d+)')
RUN_BYTES = 12_000_000
RUN_FOLDER = re.compile(r"run_\d{8}_\d{6}")


def replicate(sources: list[Path], out: Path, target_bytes: int, rename) -> tuple[int, int]:
    """Copies of `sources` under OUT until `target_bytes` are written; returns (files, bytes)."""
    written = files = copy = 0
    while written < target_bytes:
        for source in sources:
            rel = source.relative_to(SHARED)
            dest = out / f"copy{copy:04d}" / RUN_FOLDER.sub(lambda m: f"{m.group(0)}_r{copy}", str(rel))
            dest.parent.mkdir(parents=True, exist_ok=True)
            data = rename(source.read_bytes(), copy)
            dest.write_bytes(data)
            written += len(data)
            files += 1
        copy += 1
    return files, written


def renamed(data: bytes, copy: int) -> bytes:
    return EXP_ID.sub(lambda m: b'"exp_id": "' + m.group(1) + b'_r%d"' % copy, data)


def enlarged(data: bytes, copy: int) -> bytes:
    """The file repeated to about RUN_BYTES, each repetition's instances renumbered."""
    times = max(1, -(-RUN_BYTES // max(len(data), 1)))
    parts = [INDEX.sub(lambda m: b'"index_in_kind": %d' % (int(m.group(1)) + 1000 * k), data) for k in range(times)]
    return renamed(b"".join(parts), copy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gb", type=float, default=1.0, help="size of res.jsonl data to write [1.0]")
    parser.add_argument("--csv-mb", type=float, default=0.0, help="size of res.csv + per-run CSV data to write [0]")
    parser.add_argument("--shape", choices=["runs", "copies"], default="runs")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    jsonl = sorted(SHARED.rglob("res.jsonl"))
    out = args.out / args.shape
    files, size = replicate(jsonl, out, int(args.gb * 1e9), enlarged if args.shape == "runs" else renamed)
    print(f"res.jsonl ({args.shape}): {files} files, {size / 1e9:.3f} GB in {out}")
    if args.csv_mb:
        csvs = sorted(SHARED.rglob("res.csv")) + sorted(SHARED.rglob("run_*_results_seed_*.csv"))
        files, size = replicate(csvs, args.out / "csv", int(args.csv_mb * 1e6), lambda data, j: data)
        print(f"CSV: {files} files, {size / 1e6:.1f} MB in {args.out / 'csv'}")


if __name__ == "__main__":
    main()
