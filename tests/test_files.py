"""The one atomic writer and the one lock (evalhouse.files)."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys

import pytest

from evalhouse.files import DiskFull, Held, Lock, create_locked, publish, write_atomic, write_temp


def test_write_atomic_takes_bytes_text_or_a_writer_and_leaves_no_temporary_file(tmp_path):
    """Bytes, text (UTF-8) and a function that writes the temporary path all land whole at the target."""
    assert write_atomic(tmp_path / "a" / "b.bin", b"\x00\x01").read_bytes() == b"\x00\x01"
    assert write_atomic(tmp_path / "t.txt", "σ = 1\n").read_text(encoding="utf-8") == "σ = 1\n"
    assert write_atomic(tmp_path / "w.txt", lambda tmp: tmp.write_text("by writer")).read_text() == "by writer"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b.bin", "t.txt", "w.txt"]


def test_a_failed_write_keeps_the_old_file_and_a_full_disk_is_named(tmp_path):
    """A writer that fails leaves the previous file as it was; ENOSPC becomes DiskFull naming the target."""
    target = write_atomic(tmp_path / "x.json", "old")

    def full(tmp):
        tmp.write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(DiskFull, match=r"^disk full while writing .*x\.json$") as info:
        write_atomic(target, full)
    assert info.value.errno == errno.ENOSPC and isinstance(info.value, OSError)
    with pytest.raises(ValueError):
        write_atomic(target, lambda tmp: (tmp.write_text("half"), int("x")))
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["x.json"]


def test_a_held_lock_is_refused_at_once_naming_its_holder_and_a_killed_holder_frees_it(tmp_path):
    """While another process holds the lock, acquire raises Held with its pid; after SIGKILL the lock is
    free and the new holder learns it recovered a dead holder's lock."""
    path = tmp_path / "x.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import time; from evalhouse.files import lock; l = lock({str(path)!r}); l.acquire(); "
            "print('held', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(Held, match=rf"x\.lock is held by pid {holder.pid} on "):
            Lock(path).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate()  # waits, and closes the pipe
    mine = Lock(path)
    stale = mine.acquire()
    assert stale is not None and stale.pid == holder.pid and not stale.is_alive()
    assert mine.holder().pid != holder.pid
    mine.release()
    assert not (tmp_path / "x.lock.json").exists()
    with Lock(path) as again:
        assert again.holder() is not None


def test_files_written_apart_appear_together_when_published(tmp_path):
    """write_temp leaves its files invisible under hidden names; publish renames them all into place,
    removes what it is told to, and leaves no temporary file."""
    old = write_atomic(tmp_path / "b" / "old.txt", "old")
    written = [(write_temp(tmp_path / name, name), tmp_path / name) for name in ("one.txt", "two.txt")]
    assert not (tmp_path / "one.txt").exists() and all(tmp.name.startswith(".") for tmp, _ in written)
    publish(written, [old], workers=2)
    assert (tmp_path / "one.txt").read_text() == "one.txt" and (tmp_path / "two.txt").read_text() == "two.txt"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["b", "one.txt", "two.txt"]


def test_a_created_file_is_locked_before_it_appears_under_its_name(tmp_path):
    """create_locked's file is held by its creator: another process cannot lock it until the descriptor closes."""
    path = tmp_path / ".journal-000001.jsonl"
    probe = [
        sys.executable,
        "-c",
        "import fcntl, sys; fh = open(sys.argv[1]); "
        "sys.exit(0 if fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB) is None else 1)",
        str(path),
    ]
    fd = create_locked(path)
    try:
        assert subprocess.run(probe, capture_output=True).returncode != 0
        assert [p.name for p in tmp_path.iterdir()] == [path.name]
    finally:
        os.close(fd)
    assert subprocess.run(probe, capture_output=True).returncode == 0
