"""The rerun lock: one `evalhouse rerun` per data folder at a time, and a killed holder never blocks.

It is the project's one lock (`evalhouse.files.Lock`, an flock through `filelock` that the kernel drops
when the holder dies) on `data/rerun.lock`, with `data/rerun.lock.json` naming the holder. A refused
rerun reads that file to say who holds the lock; finding it at acquire time means the previous holder
was killed, which the new holder reports as a recovered stale lock.
"""

from __future__ import annotations

from pathlib import Path

from evalhouse.files import Held, Holder, Lock

__all__ = ["Holder", "LockHeld", "RerunLock"]


class LockHeld(Exception):
    """Another rerun holds the lock."""

    def __init__(self, lock_file: Path, holder: Holder | None):
        self.lock_file, self.holder = lock_file, holder
        who = holder.describe() if holder else "a process that is still starting"
        super().__init__(f"another `evalhouse rerun` holds {lock_file} ({who}); this one exits without doing anything")


class RerunLock(Lock):
    """Non-blocking, process-exclusive lock on a data folder."""

    def __init__(self, data: Path):
        super().__init__(data / "rerun.lock")

    def acquire(self) -> Holder | None:
        """Take the lock or raise LockHeld at once; returns the dead holder whose stale lock was recovered."""
        try:
            return super().acquire()
        except Held as exc:
            raise LockHeld(exc.lock_file, exc.holder) from None
