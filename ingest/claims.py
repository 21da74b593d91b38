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
under the claim), and a run that finds the count moved since it read the stored state reads it again
before starting that bucket.

Claims are local to a machine: runs on two machines writing one bucket (`EVALHOUSE_DATA=s3://…`) do
not see each other's.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import struct
from pathlib import Path

BUCKETS = 4096
_SLOT = 8  # bytes per bucket: its claim counter, little-endian
_OFD = hasattr(fcntl, "F_OFD_SETLK")  # Linux ≥ 3.15; elsewhere process-owned locks (one run per process)


def bucket_of(key: str) -> int:
    """The bucket of a unit, from what identifies it (`Unit.key`)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") % BUCKETS


class Claims:
    """This process's claims on the buckets of one data folder; `close()` (or exiting) gives them up."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        self.held: set[int] = set()

    def counts(self) -> bytes:
        """Every bucket's claim count, to compare with later (`moved`)."""
        return os.pread(self._fd, BUCKETS * _SLOT, 0)

    def claim(self, bucket: int, seen: bytes) -> bool | None:
        """Claim `bucket`: None when another live run holds it; else whether it moved since `seen` was read."""
        if bucket in self.held:
            return False
        if not self._lock(bucket):
            return None
        self.held.add(bucket)
        count = self._count(os.pread(self._fd, _SLOT, bucket * _SLOT))
        os.pwrite(self._fd, struct.pack("<Q", count + 1), bucket * _SLOT)
        return count != self._count(seen[bucket * _SLOT : (bucket + 1) * _SLOT])

    def close(self) -> None:
        os.close(self._fd)
        self.held.clear()

    @staticmethod
    def _count(slot: bytes) -> int:
        return struct.unpack("<Q", slot)[0] if len(slot) == _SLOT else 0

    def _lock(self, bucket: int) -> bool:
        start = bucket * _SLOT
        try:
            if _OFD:
                # struct flock: l_type, l_whence, l_start, l_len, l_pid (0 for OFD locks), padding
                request = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, start, _SLOT, 0)
                fcntl.fcntl(self._fd, fcntl.F_OFD_SETLK, request)
            else:  # pragma: no cover (not Linux)
                fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB, _SLOT, start)
        except (BlockingIOError, PermissionError):
            return False
        return True
