"""The write-ahead journal: a paid response reaches the kernel the moment it lands, not at the next shard.

Rows between two checkpoints go to one journal segment (`.journal-000003.jsonl`, one JSON object a line,
written through to the kernel, so SIGKILL cannot lose them). A checkpoint writes the segment's rows as
the shard `part-000003.parquet` and then deletes the segment. The writer holds an exclusive `flock` on
its segment for as long as it lives, so a later run can tell a live segment from one a killed run left.

Recovery is idempotent because the shard is named after its segment: if `part-000003.parquet` exists the
segment was already written (the process died between rename and delete) and is only removed; otherwise
its complete lines become that shard. A torn last line is the row that was being written at the kill.
A row that does not fit on a full disk is cut off again (the segment keeps only whole rows) and the
append raises `DiskFull`: the rows before it stay journaled for the next run to recover.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from evalhouse.files import DiskFull, create_locked, is_full

_SEGMENT = re.compile(r"^(?:\.journal-|part-)(\d+)\.(?:jsonl|parquet)$")


def segment_name(seq: int) -> str:
    return f".journal-{seq:06d}.jsonl"


def shard_stem(seq: int) -> str:
    return f"part-{seq:06d}"


def _names(folder: Path | str) -> list[str]:
    if isinstance(folder, str):
        from evalhouse.storage import names

        return names(folder)
    return [p.name for p in folder.iterdir()] if folder.exists() else []


def shard_exists(folder: Path | str, stem: str) -> bool:
    """Whether the shard `stem` is stored in `folder` (a local folder or an s3:// one)."""
    if isinstance(folder, str):
        from evalhouse.storage import exists

        return exists(f"{folder}/{stem}.parquet")
    return (folder / f"{stem}.parquet").exists()


def next_sequence(*folders: Path | str) -> int:
    """The first segment number used in none of `folders` (a reused run id continues after the last).

    The folders are the journal's and, when shards are published to object storage, the bucket's.
    """
    used = [int(m.group(1)) for folder in folders for name in _names(folder) if (m := _SEGMENT.match(name))]
    return max(used, default=-1) + 1


def _try_lock(fh: IO[Any]) -> bool:
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class Segment:
    """One open journal segment, locked by this process."""

    def __init__(self, folder: Path, seq: int):
        folder.mkdir(parents=True, exist_ok=True)
        self.seq = seq
        self.path = folder / segment_name(seq)
        # locked before it appears under its name, so a recovering run never finds this segment unlocked
        self._fd = create_locked(self.path)
        self._size = 0

    def append(self, row: Mapping[str, Any]) -> None:
        """Hand one row to the kernel (one write: SIGKILL cannot lose it); on a full disk, cut it off again."""
        line = (json.dumps(row, separators=(",", ":")) + "\n").encode()
        try:
            written = os.write(self._fd, line)
            while written < len(line):  # a short write: the disk is filling up
                written += os.write(self._fd, line[written:])
        except OSError as exc:
            os.ftruncate(self._fd, self._size)  # freeing space never fails for want of it
            if is_full(exc):
                raise DiskFull(self.path, exc) from exc
            raise
        self._size += len(line)

    def remove(self) -> None:
        """Delete the segment (its rows are in a shard now) and release the lock."""
        self.path.unlink(missing_ok=True)
        os.close(self._fd)

    def close(self) -> None:
        """Release the segment, keeping its rows for the next run's recovery."""
        os.close(self._fd)


def read_segment(fh: IO[str]) -> list[dict[str, Any]]:
    """The complete rows of a segment; a torn last line (the kill came mid-write) is dropped."""
    rows = []
    for line in fh:
        if not line.endswith("\n"):
            break
        try:
            rows.append(json.loads(line))
        except ValueError:
            break
    return rows


def orphaned_segments(root: Path) -> list[Path]:
    """Journal segments under `root` (one folder per run)."""
    return sorted(root.glob("*/.journal-*.jsonl")) if root.exists() else []


def recover(root: Path, write_shard, stored=lambda folder: folder) -> int:
    """Turn every segment a dead run left under `root` into its shard; returns the rows recovered.

    `write_shard(rows, folder, stem)` writes one shard atomically into the folder `stored(segment's
    folder)` names (the same folder, or its twin in a bucket). Segments locked by a live run are left alone.
    """
    recovered = 0
    for path in orphaned_segments(root):
        seq = int(_SEGMENT.match(path.name).group(1))
        try:
            fh = open(path, encoding="utf-8")  # noqa: SIM115 (closed by the `with fh` below)
        except FileNotFoundError:  # its live writer turned it into a shard meanwhile
            continue
        with fh:
            if not _try_lock(fh):
                continue
            target = stored(path.parent)
            if not shard_exists(target, shard_stem(seq)):
                rows = read_segment(fh)
                if rows:
                    write_shard(rows, target, shard_stem(seq))
                    recovered += len(rows)
            path.unlink(missing_ok=True)  # a live writer may have removed it meanwhile
    return recovered
