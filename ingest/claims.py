"""Never pay twice: runs over the same data folder share their plans instead of each asking everything.

Work is claimed in buckets. A unit (model, problem, seed, sample) falls into one of `BUCKETS` buckets by
a hash of what identifies it, so two runs whose plans overlap meet in the same buckets whatever else
their plans hold. A run claims a bucket before it starts the bucket's first unit and holds the claim
until it exits; a bucket another run holds is left to that run. A claim is an exclusive lock on the
bucket's 8 bytes of one claims file per data folder (an open-file-description byte-range lock, `fcntl`
`F_OFD_SETLK`): the kernel drops it when its holder dies, however it dies, so a killed run's buckets are
free at once, and the next run that takes one first turns that run's journal into shards. One file of
byte ranges, not a lock file per bucket (`filelock`): a run holds up to thousands of claims at once,
and file descriptors are few.

A run reads what is stored once, at its start; a bucket it claims later may have been worked on since
by a run that has exited meanwhile. So each claim also counts itself in the bucket's 8 bytes (written
under the claim), and just before reading the stored state a run takes a `Snapshot`: every bucket's
count, then which buckets are held. A bucket claimed later whose count moved since, or that was held
then, has been worked on since the state was read, and the run reads it again before starting that
bucket. (Counts first: a claim taken between the two reads is either counted after the first or held
at the second.)

Claims are local to a machine: runs on two machines writing one bucket (`EVALHOUSE_DATA=s3://…`) do
not see each other's.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

BUCKETS = 4096
_SLOT = 8  # bytes per bucket: its claim counter, little-endian
_OFD = hasattr(fcntl, "F_OFD_SETLK")  # Linux ≥ 3.15; elsewhere process-owned locks (one run per process)
_FLOCK = "hhqqi4x"  # struct flock: l_type, l_whence, l_start, l_len, l_pid (0 for OFD locks), padding


def bucket_of(key: str) -> int:
    """The bucket of a unit, from what identifies it (`Unit.key`)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") % BUCKETS


@dataclass(frozen=True)
class Snapshot:
    """The claims as they stood just before a run read the stored state."""

    counts: bytes  # every bucket's claim count
    held: frozenset[int]  # buckets other runs held

    def count(self, bucket: int) -> int:
        return _count(self.counts[bucket * _SLOT : (bucket + 1) * _SLOT])


class Claims:
    """This process's claims on the buckets of one data folder; `close()` (or exiting) gives them up."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self.held: set[int] = set()

    def snapshot(self) -> Snapshot:
        """Take it just before reading the stored state (see the module docstring)."""
        counts = os.pread(self._fd, BUCKETS * _SLOT, 0)
        return Snapshot(counts, frozenset(self._held_by_others(0, BUCKETS * _SLOT)))

    def claim(self, bucket: int, seen: Snapshot) -> bool | None:
        """Claim `bucket`: None when another live run holds it; else whether it was worked on since `seen`."""
        if bucket in self.held:
            return False
        if not self._lock(bucket):
            return None
        self.held.add(bucket)
        count = _count(os.pread(self._fd, _SLOT, bucket * _SLOT))
        os.pwrite(self._fd, struct.pack("<Q", count + 1), bucket * _SLOT)
        return count != seen.count(bucket) or bucket in seen.held

    def close(self) -> None:
        os.close(self._fd)
        self.held.clear()

    def _lock(self, bucket: int) -> bool:
        start = bucket * _SLOT
        try:
            if _OFD:
                fcntl.fcntl(
                    self._fd, fcntl.F_OFD_SETLK, struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, start, _SLOT, 0)
                )
            else:  # pragma: no cover (not Linux)
                fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB, _SLOT, start)
        except (BlockingIOError, PermissionError):
            return False
        return True

    def _held_by_others(self, start: int, end: int) -> set[int]:
        """Buckets within bytes [start, end) that another holder has locked (about one query per held range)."""
        get = fcntl.F_OFD_GETLK if _OFD else fcntl.F_GETLK
        held: set[int] = set()
        ranges = [(start, end)]
        while ranges:
            start, end = ranges.pop()
            if start >= end:
                continue
            query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, start, end - start, 0)
            kind, _, lock_start, length, _ = struct.unpack(_FLOCK, fcntl.fcntl(self._fd, get, query))
            if kind == fcntl.F_UNLCK:
                continue
            lock_end = end if length == 0 else min(end, lock_start + length)
            lock_start = max(start, lock_start)
            held.update(range(lock_start // _SLOT, (lock_end + _SLOT - 1) // _SLOT))
            ranges += [(start, lock_start), (lock_end, end)]
        return held


def _count(slot: bytes) -> int:
    return struct.unpack("<Q", slot)[0] if len(slot) == _SLOT else 0
