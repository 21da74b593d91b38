"""Files that are complete or absent, and locks that die with their holder: the project's one way to do each.

`write_atomic` writes a hidden temporary file in the target's folder (`.<name>.<token>.tmp-<pid>`), flushes
it to disk, renames it over the target and syncs the folder, so a reader sees the old file or the new one,
never half of one; its two halves, `write_temp` and `publish`, make many files visible at once (an import's
batch of shards); `clean_leftovers` removes the temporary files of writers that died. A full disk (or
quota) is a `DiskFull` naming the file, with the temporary file removed.

`Lock` is a non-blocking, process-exclusive lock over `filelock` (an flock the kernel drops when the holder
dies, however it dies), with a small JSON file beside it naming the holder (pid, host, start) so a refused
process can say who holds it, and a new holder can tell that the previous one was killed.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import secrets
import socket
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock, Timeout

FULL = (errno.ENOSPC, errno.EDQUOT)


class DiskFull(OSError):
    """No space left (or the quota is spent) while writing `path`."""

    def __init__(self, path: Path | str, cause: BaseException | None = None):
        super().__init__(errno.ENOSPC, f"disk full while writing {path}")
        self.path = path
        self.__cause__ = cause

    def __str__(self) -> str:
        return self.strerror


def is_full(exc: BaseException) -> bool:
    """Whether an error means the disk (or the quota) is full; pyarrow only says so in its message."""
    if isinstance(exc, DiskFull):
        return True
    if isinstance(exc, OSError) and exc.errno in FULL:
        return True
    return isinstance(exc, OSError) and any(os.strerror(code) in str(exc) for code in FULL)


def temp_name(path: Path) -> Path:
    """The hidden temporary name `path` is written under (unique per thread; `clean_leftovers` reads the pid)."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp-{os.getpid()}")


def write_atomic(path: Path | str, data: bytes | str | Callable[[Path], None]) -> Path:
    """Write `data` (bytes, text as UTF-8, or a function that writes the file it is given) to `path` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = write_temp(path, data)
    try:
        publish([(tmp, path)])
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_temp(path: Path, data: bytes | str | Callable[[Path], None]) -> Path:
    """The first half of an atomic write: `data` written and flushed under `path`'s hidden temporary name,
    which is returned (for `publish`); nothing is left behind when the write fails."""
    tmp = temp_name(path)
    try:
        if callable(data):
            data(tmp)
        else:
            tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        fsync_path(tmp)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if is_full(exc) and not isinstance(exc, DiskFull):
            raise DiskFull(path, exc) from exc
        raise
    return tmp


def publish(written: Iterable[tuple[Path, Path]], removed: Iterable[Path] = (), workers: int = 1) -> None:
    """The second half: rename each written temporary file over its target and remove `removed`, then sync
    each folder once (`workers` at a time: a sync mostly waits on the disk), so the renames survive a crash.

    Many files become visible together this way: a batch of shards is written first, then published."""
    folders = set()
    for tmp, target in written:
        os.replace(tmp, target)
        folders.add(Path(target).parent)
    for target in removed:
        Path(target).unlink(missing_ok=True)
        folders.add(Path(target).parent)
    if workers > 1 and len(folders) > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(fsync_path, folders))
    else:
        for folder in folders:
            fsync_path(folder)


def create_locked(path: Path) -> int:
    """A new, empty file at `path`, open for appending and locked (`flock`) by this process before it appears
    under its name: created under its temporary name, locked, then renamed, so no other process ever finds it
    unlocked. Returns the descriptor; the lock lasts until it is closed."""
    tmp = temp_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
    except OSError as exc:
        if is_full(exc):
            raise DiskFull(path, exc) from exc
        raise
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file nobody else has open: never refused
        os.replace(tmp, path)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    return fd


def fsync_path(path: Path | str) -> None:
    """Flush a file, or a folder's entries (so a rename survives a crash), to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_leftovers(root: Path) -> int:
    """Remove temporary files (`.<name>…tmp-<pid>`) that dead writers left behind; returns how many.

    A file whose writer is still alive is another process's write in progress and is left alone.
    """
    removed = 0
    if root.exists():
        for tmp in root.rglob(".*.tmp-*"):
            pid = tmp.name.rpartition(".tmp-")[2]
            if pid.isdigit() and not pid_alive(int(pid)):
                tmp.unlink(missing_ok=True)
                removed += 1
    return removed


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) a lock."""

    pid: int
    host: str
    started_at: str  # ISO 8601, UTC

    @classmethod
    def me(cls) -> Holder:
        return cls(os.getpid(), socket.gethostname(), datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def is_alive(self) -> bool:
        """Whether the process still runs (always assumed for a holder on another host)."""
        return self.host != socket.gethostname() or pid_alive(self.pid)

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, started {self.started_at}"


class Held(Exception):
    """Another process holds the lock."""

    def __init__(self, lock_file: Path, holder: Holder | None):
        self.lock_file, self.holder = lock_file, holder
        who = holder.describe() if holder else "a process that is still starting"
        super().__init__(f"{lock_file} is held by {who}")


class Lock:
    """Non-blocking, process-exclusive lock on `path`, its holder named in `<path>.json`."""

    def __init__(self, path: Path | str):
        self.lock_file = Path(path)
        self.holder_file = self.lock_file.with_name(self.lock_file.name + ".json")
        self._lock = FileLock(str(self.lock_file))

    def acquire(self) -> Holder | None:
        """Take the lock or raise Held at once; returns the dead holder whose lock this recovered, if any."""
        self.lock_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise Held(self.lock_file, self.holder()) from None
        stale = self.holder()
        write_atomic(self.holder_file, json.dumps(asdict(Holder.me())) + "\n")
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

    def __enter__(self) -> Lock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock(path: Path | str) -> Lock:
    """The lock on `path` (`with lock(p): ...` holds it or raises Held naming the holder)."""
    return Lock(path)
