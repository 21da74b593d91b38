"""The rerun lock: one `evalhouse rerun` per data folder at a time, and a killed holder never blocks.

The lock itself is an flock taken through `filelock` on `data/rerun.lock`; the kernel drops it when the
holding process dies, however it dies, so a SIGKILLed rerun cannot leave a lock that nobody may take.
Beside it, `data/rerun.lock.json` names the holder (pid, host, start). A refused rerun reads it to say
who holds the lock; a holder removes it on release, so finding it at acquire time means the previous
holder was killed, which the new holder reports as a recovered stale lock.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock, Timeout


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) the lock."""

    pid: int
    host: str
    started_at: str  # ISO 8601, UTC

    @classmethod
    def me(cls) -> Holder:
        return cls(os.getpid(), socket.gethostname(), datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def is_alive(self) -> bool:
        """Whether the process still runs (always assumed for a holder on another host)."""
        if self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, started {self.started_at}"


class LockHeld(Exception):
    """Another rerun holds the lock."""

    def __init__(self, lock_file: Path, holder: Holder | None):
        self.lock_file, self.holder = lock_file, holder
        who = holder.describe() if holder else "a process that is still starting"
        super().__init__(f"another `evalhouse rerun` holds {lock_file} ({who}); this one exits without doing anything")


class RerunLock:
    """Non-blocking, process-exclusive lock on a data folder."""

    def __init__(self, data: Path):
        self.lock_file = data / "rerun.lock"
        self.holder_file = data / "rerun.lock.json"
        self._lock = FileLock(str(self.lock_file))

    def acquire(self) -> Holder | None:
        """Take the lock or raise LockHeld at once; returns the dead holder whose stale lock was recovered."""
        self.lock_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise LockHeld(self.lock_file, self.holder()) from None
        stale = self.holder()
        self._write_holder(Holder.me())
        return stale

    def release(self) -> None:
        self.holder_file.unlink(missing_ok=True)
        self._lock.release()

    def holder(self) -> Holder | None:
        """The holder named beside the lock, if any (read without taking the lock)."""
        try:
            return Holder(**json.loads(self.holder_file.read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def _write_holder(self, holder: Holder) -> None:
        # Written to a temporary name and renamed, so a refused rerun never reads half a file.
        tmp = self.holder_file.with_name(f".{self.holder_file.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(asdict(holder)) + "\n")
        os.replace(tmp, self.holder_file)
