"""Running model-written code, which is hostile until proven otherwise.

Each program runs in a process of its own, started through `sandbox_child.py`, with:

- wall-clock and CPU time limits, an address-space cap per process (a 10 GB allocation fails at once)
  and a cap on the resident memory of all its processes together (polled);
- a process cap that counts only the program's own processes: as root the program runs as a fresh
  unprivileged uid; as any other user it runs in a user namespace of its own, where the kernel keeps
  the count per namespace; a PID namespace kills every process when the program ends or is stopped;
- no network: a new network namespace with no interface up, and no socket at all (seccomp);
- no files outside its folder: a read-only root holding only system libraries, the Python standard
  library and the program's folder (the one writable place: a small tmpfs, capped in size, file count
  and file size, so it cannot fill the host's disk);
- a seccomp filter (compiled by libseccomp, `sandbox_seccomp.py`) refusing new namespaces, mounts,
  tracing, BPF, io_uring, keyrings and the like;
- an audit hook inside the interpreter that stops the program at its first attempt to open a socket,
  read or write outside its folder, start another program or load C code, and says which;
- an output cap: stdout and stderr are read as they come, and the program is killed when they pass it.

The caller's own process is made non-dumpable before the first program starts, so a program that got
out of its cage still could not read the caller's memory or environment (the API key) through /proc,
and the program's environment is built from an allow-list, never inherited.

The cage ("isolation"): `namespaces` as root; `userns` for any other user where the kernel allows
unprivileged user namespaces (the same walls); `landlock` where it does not but Landlock (ABI 6+) and
the filter are there: no namespaces, but the program may read only the system's and Python's folders,
write only its own (on the host's disk, its size polled), open no socket and signal or trace nothing
outside its domain; `basic` where none works: rlimits, the filter and the hook only, which a program
can escape, so `run_code` refuses it unless the caller allows it (`Limits(unsafe=True)`, the
collector's `--unsafe-sandbox`). Each Execution says which cage it ran in, with `+seccomp` when the
filter was installed.
"""

from __future__ import annotations

import ast
import contextlib
import ctypes
import functools
import logging
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from . import sandbox_child, sandbox_seccomp

log = logging.getLogger("evalhouse.sandbox")

_CHILD = Path(sandbox_child.__file__).resolve()
_STDERR_TAIL = 64 * 1024
_MEMORY_POLL_S = 0.05
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
_UIDS = (2_000_000_000, 2_100_000_000)  # fresh uids for programs: no account, no files, no processes
CAGES = ("namespaces", "userns", "landlock", "basic")
# The program's whole environment: nothing of the caller's (its API key above all) is passed on.
CHILD_ENV = {"PATH": "/usr/bin:/bin", "HOME": "/sandbox", "PYTHONHASHSEED": "0", "LANG": "C.UTF-8"}
PR_SET_DUMPABLE = 4


class SandboxUnavailable(Exception):
    """Only the escapable basic isolation works here, and the caller did not allow it."""


@dataclass(frozen=True)
class Limits:
    """What one program may use.

    `isolation` is auto (the best cage this machine builds), namespaces (root), userns, landlock or basic; auto
    refuses to fall back to basic unless `unsafe`. `seccomp` and `audit` switch those layers off for tests."""

    wall_s: float = 5.0
    cpu_s: int = 5
    memory_mb: int = 512
    processes: int = 8
    file_mb: int = 16
    folder_mb: int = 64
    output_bytes: int = 1 << 20
    isolation: str = "auto"
    unsafe: bool = False
    seccomp: bool = True
    audit: bool = True


@dataclass(frozen=True)
class Execution:
    """What happened to one program: its output and, if it was stopped, the limit that stopped it."""

    stdout: str
    stderr: str
    exit_code: int | None
    duration_ms: float
    status: str  # ok | error | timeout | killed
    limit: str | None = (
        None  # wall cpu memory output processes file descriptors network filesystem subprocess ctypes syscall sandbox
    )
    reason: str | None = None  # one line: why it stopped or failed
    isolation: str = ""  # namespaces | userns | landlock | basic, with "+seccomp" when the filter was installed

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def run_code(code: str, limits: Limits = Limits()) -> Execution:
    """Run a Python program under `limits` and report what it printed and how it ended."""
    harden_parent()
    return _run(code, limits, _cage(limits))


def require(unsafe: bool = False) -> str:
    """The cage programs will run in here; SandboxUnavailable when only basic works and not `unsafe`.

    The collector calls this before its first request, so a run that cannot sandbox pays for nothing."""
    harden_parent()
    return _cage(Limits(unsafe=unsafe))


@functools.lru_cache(maxsize=1)
def harden_parent() -> None:
    """Make this process non-dumpable: its /proc files (environ, mem, fd) become unreadable to every
    process of the same user, a program that escaped included. ptrace and core dumps go too."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            log.warning("sandbox: prctl(PR_SET_DUMPABLE, 0) failed: %s", os.strerror(ctypes.get_errno()))


def _cage(limits: Limits) -> str:
    requested = limits.isolation
    if requested not in ("auto", *CAGES):
        raise ValueError(f"isolation must be auto, {', '.join(CAGES)}, not {requested!r}")
    if requested in ("userns", "landlock") and os.geteuid() == 0:
        raise ValueError(f"as root the cage is 'namespaces' (a fresh uid); {requested!r} is for other users")
    if requested != "auto":
        return requested
    cage, why = best_cage()
    if cage == "basic" and not limits.unsafe:
        raise SandboxUnavailable(
            f"no sandbox for model-written code on this machine ({why}); with only rlimits a program can read "
            "your files and the network. Allow unprivileged user namespaces (see README, Sandbox), or pass "
            "--unsafe-sandbox (spec: unsafe_sandbox = true) to run it anyway"
        )
    return cage


@functools.lru_cache(maxsize=1)
def best_cage() -> tuple[str, str]:
    """Probe once per process: the best cage this machine builds, and why not better."""
    if not sys.platform.startswith("linux"):
        return "basic", f"namespaces are Linux only, this is {sys.platform}"
    cage = "namespaces" if os.geteuid() == 0 else "userns"
    failure = _probe(cage)
    if failure is None:
        return cage, ""
    why = _userns_blocker() or failure
    if cage == "userns" and sandbox_seccomp.compile_filter(os.getpid()) and _probe("landlock") is None:
        log.warning("sandbox: no user namespaces (%s); programs run in a Landlock domain", why)
        return "landlock", why
    log.warning("sandbox: no %s cage (%s); only basic isolation (rlimits, filter, audit hook) works", cage, why)
    return "basic", why


def _probe(cage: str) -> str | None:
    """Why a trivial program does not run (and print) in `cage`; None when it does."""
    result = _run("print(6 * 7)", Limits(wall_s=10), cage)
    if result.ok and result.stdout.strip() == "42":
        return None
    return result.reason or result.status


def _userns_blocker() -> str | None:
    """The kernel setting that forbids unprivileged user namespaces, if one does."""
    for path, bad, hint in (
        ("/proc/sys/kernel/unprivileged_userns_clone", "0", "kernel.unprivileged_userns_clone=0"),
        ("/proc/sys/user/max_user_namespaces", "0", "user.max_user_namespaces=0"),
        (
            "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
            "1",
            "kernel.apparmor_restrict_unprivileged_userns=1 (AppArmor)",
        ),
    ):
        with contextlib.suppress(OSError):
            if Path(path).read_text().strip() == bad and os.geteuid() != 0:
                return f"unprivileged user namespaces are off: {hint}"
    return None


def _run(code: str, limits: Limits, cage: str) -> Execution:
    folder = Path(tempfile.mkdtemp(prefix="evalhouse-sbx-"))
    status_r, status_w = os.pipe()
    try:
        work, root = folder / "work", folder / "root"
        work.mkdir()
        root.mkdir()
        (work / "main.py").write_text(code, encoding="utf-8")
        uid = _fresh_uid() if os.geteuid() == 0 and (cage == "namespaces" or _stdlib_world_readable()) else None
        if uid is not None:
            os.chmod(folder, 0o711)
            os.chown(work, uid, uid)
            os.chown(work / "main.py", uid, uid)
        program = sandbox_seccomp.compile_filter(os.getpid()) if limits.seccomp else None
        spec = {
            "cage": cage,
            "uid": uid,
            "work": str(work),
            "root": str(root),
            "status_fd": status_w,
            "audit": limits.audit,
            "seccomp": program.hex() if program else None,
            "cpu_s": limits.cpu_s,
            "memory_mb": limits.memory_mb,
            "file_mb": limits.file_mb,
            "folder_mb": limits.folder_mb,
            "processes": limits.processes,
            "read_roots": _read_roots(),
        }
        start = time.perf_counter()
        proc = subprocess.Popen(
            [
                os.path.realpath(sys.executable),
                "-s",
                "-S",
                "-B",
                "-X",
                "utf8",
                str(_CHILD),
                sandbox_child.format_spec(spec),
            ],
            cwd=work,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**CHILD_ENV, "TMPDIR": str(work) if cage in sandbox_child.HOST_CAGES else sandbox_child.WORK_INSIDE},
            pass_fds=(status_w,),
            start_new_session=True,
        )
        os.close(status_w)
        status_w = -1
        try:
            on_disk = work if cage in sandbox_child.HOST_CAGES else None
            captured = _capture(proc, status_r, limits, start + limits.wall_s, on_disk)
        finally:
            _kill(proc)
        duration = (time.perf_counter() - start) * 1000
    finally:
        for fd in (status_r, status_w):
            if fd >= 0:
                os.close(fd)
        shutil.rmtree(folder, ignore_errors=True)
    return _verdict(captured, limits, duration, cage + ("+seccomp" if program else ""))


@functools.lru_cache(maxsize=1)
def _read_roots() -> list[str]:
    """Folders the program may read (never write): the base interpreter's standard library (never a
    virtual environment's folders, which hold the project's packages)."""
    base = {
        "base": sys.base_prefix,
        "platbase": sys.base_exec_prefix,
        "installed_base": sys.base_prefix,
        "installed_platbase": sys.base_exec_prefix,
    }
    return sorted({os.path.realpath(sysconfig.get_path(name, vars=base)) for name in ("stdlib", "platstdlib")})


def _fresh_uid() -> int:
    return secrets.randbelow(_UIDS[1] - _UIDS[0]) + _UIDS[0]


@functools.lru_cache(maxsize=1)
def _stdlib_world_readable() -> bool:
    """Without namespaces a fresh uid sees the host's files: can it still import the standard library?"""
    return all(p.stat().st_mode & 0o005 == 0o005 for root in _read_roots() for p in [Path(root), *Path(root).parents])


@dataclass
class _Captured:
    stdout: bytes
    stderr: bytes
    status: dict
    stopped: str | None  # wall | output | memory | None


def _capture(
    proc: subprocess.Popen, status_fd: int, limits: Limits, deadline: float, on_disk: Path | None
) -> _Captured:
    """Read stdout, stderr and the status pipe as they come; stop at the output cap, the deadline, when
    all the program's processes together pass the memory cap, or (a folder on the host's disk, not a
    capped tmpfs) when its folder passes the folder cap."""
    out, err, status = bytearray(), bytearray(), bytearray()
    err_total, stopped = 0, None
    next_poll = time.perf_counter() + _MEMORY_POLL_S  # a program done within one poll never pays for it
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ, "out")
        sel.register(proc.stderr, selectors.EVENT_READ, "err")
        sel.register(status_fd, selectors.EVENT_READ, "status")
        while sel.get_map() and stopped is None:
            left = deadline - time.perf_counter()
            if left <= 0:
                stopped = "wall"
                break
            ready = sel.select(min(left, _MEMORY_POLL_S))
            if time.perf_counter() >= next_poll:
                next_poll = time.perf_counter() + _MEMORY_POLL_S
                if _resident_mb(proc.pid) > limits.memory_mb:
                    stopped = "memory"
                    break
                if on_disk is not None and _folder_full(on_disk, limits.folder_mb):
                    stopped = "folder"
                    break
            for key, _ in ready:
                chunk = os.read(key.fd, 1 << 16)
                if not chunk:
                    sel.unregister(key.fileobj)
                    if key.data == "status":  # init has reported and exited: what the program left goes too
                        _kill_group(proc)
                elif key.data == "out":
                    out += chunk
                    if len(out) > limits.output_bytes:
                        stopped = "output"
                elif key.data == "err":
                    err_total += len(chunk)
                    err = (err + chunk)[-_STDERR_TAIL:]
                    if err_total > limits.output_bytes:
                        stopped = "output"
                else:
                    status += chunk
    return _Captured(bytes(out[: limits.output_bytes]), bytes(err), _status(status), stopped)


def _resident_mb(launcher: int) -> float:
    """Resident memory of the launcher's whole process tree: the program's processes and everything they
    started (orphans stay in the tree: they move to init, a PID namespace's reaper or basic's subreaper).

    RLIMIT_AS caps each process; this caps their sum (a fork bomb of allocators) without cgroups."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                fields = fh.read().rpartition(b")")[2].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * _PAGE_KB
    total_kb, todo = 0, [launcher]
    while todo:
        pid = todo.pop()
        total_kb += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total_kb / 1024


def _folder_full(folder: Path, folder_mb: int) -> bool:
    """Does the folder hold more than the tmpfs cage would allow (`folder_mb`, FOLDER_FILES entries)?"""
    size = count = 0
    for top, dirs, files in os.walk(folder):
        count += len(dirs) + len(files)
        for name in files:
            with contextlib.suppress(OSError):
                size += os.lstat(os.path.join(top, name)).st_blocks * 512
        if count > sandbox_child.FOLDER_FILES or size > folder_mb << 20:
            return True
    return False


def _status(raw: bytearray) -> dict:
    """The launcher's last status line; {} when it died before writing one."""
    lines = [line for line in raw.decode(errors="replace").splitlines() if line.strip()]
    try:
        status = ast.literal_eval(lines[-1]) if lines else {}
    except (ValueError, SyntaxError):
        return {}
    return status if isinstance(status, dict) else {}


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the launcher's process group: every process of a host cage (the filter forbids leaving it);
    in a namespace cage the PID namespace takes the rest. Only before the launcher is reaped: until then
    its pid, the group's id, cannot be reused."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _kill(proc: subprocess.Popen) -> None:
    _kill_group(proc)
    proc.wait()
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


_FOLDER_FULL = "its folder is full ({folder_mb} MB, {folder_files} files)"


def _facts(limits: Limits) -> dict:
    """What the reasons may name: the limits, and the launcher's fixed caps."""
    return {**asdict(limits), "folder_files": sandbox_child.FOLDER_FILES, "open_files": sandbox_child.OPEN_FILES}


_STDERR_LIMITS = (
    ("MemoryError", "memory", "memory limit ({memory_mb} MB) reached"),
    ("File too large", "file", "file size limit ({file_mb} MB) reached"),
    ("No space left on device", "file", _FOLDER_FULL),
    ("can't start new thread", "processes", "process limit ({processes}) reached"),
    ("Resource temporarily unavailable", "processes", "process limit ({processes}) reached"),
    ("Too many open files", "descriptors", "open-file limit ({open_files}) reached"),
    ("Network is unreachable", "network", "no network in the sandbox"),
    ("Address family not supported", "network", "no network in the sandbox (sockets are refused)"),
    ("Read-only file system", "filesystem", "only its own folder is writable"),
    ("Permission denied", "filesystem", "outside its own folder the files are closed to it"),
    ("Operation not permitted", "syscall", "a system call the sandbox refuses (Operation not permitted)"),
)


def _verdict(c: _Captured, limits: Limits, duration: float, isolation: str) -> Execution:
    stdout, stderr = c.stdout.decode("utf-8", "replace"), c.stderr.decode("utf-8", "replace")

    def done(status: str, limit: str | None, reason: str | None, exit_code: int | None = None) -> Execution:
        return Execution(stdout, stderr, exit_code, duration, status, limit, reason, isolation)

    evidence = _stderr_limit(stderr, limits)
    if c.stopped == "output":
        return done("killed", "output", f"output passed {limits.output_bytes} bytes")
    if c.stopped == "folder":
        return done("killed", "file", _FOLDER_FULL.format(**_facts(limits)))
    if c.stopped == "memory":
        return done("killed", "memory", f"memory limit ({limits.memory_mb} MB) reached by all its processes together")
    if c.stopped == "wall":
        if evidence and evidence[0] == "processes":
            return done("killed", "processes", f"{evidence[1]}; stopped at the wall limit ({limits.wall_s:g} s)")
        return done("timeout", "wall", f"still running after {limits.wall_s:g} s")
    if "setup_error" in c.status:
        return done("error", "sandbox", f"sandbox setup failed: {c.status['setup_error']}")
    marker = [line for line in stderr.splitlines() if line.startswith(sandbox_child.MARKER)]
    if marker and c.status.get("exit") == sandbox_child.VIOLATION_EXIT:
        what, _, detail = marker[-1][len(sandbox_child.MARKER) + 1 :].partition(": ")
        return done("killed", what, f"blocked {what} access: {detail}", sandbox_child.VIOLATION_EXIT)
    sig = c.status.get("signal")
    if sig is not None:
        cpu = c.status.get("cpu_s", 0.0)
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= limits.cpu_s - 0.05):
            return done("killed", "cpu", f"CPU limit ({limits.cpu_s} s) reached", -sig)
        if sig == signal.SIGXFSZ:
            return done("killed", "file", f"file size limit ({limits.file_mb} MB) reached", -sig)
        return done("error", None, f"killed by signal {signal.Signals(sig).name}", -sig)
    code = c.status.get("exit")
    if code is None:
        return done("error", "sandbox", "the sandbox reported no exit status")
    if code == 0:
        return done("ok", None, None, 0)
    if evidence:
        return done("killed", evidence[0], evidence[1], code)
    lines = [line for line in stderr.splitlines() if line.strip()]
    return done("error", None, lines[-1].strip()[:300] if lines else f"exit code {code}", code)


def _stderr_limit(stderr: str, limits: Limits) -> tuple[str, str] | None:
    """The limit a failure points to, read from the program's last error lines."""
    tail = stderr[-4000:]
    for needle, limit, reason in _STDERR_LIMITS:
        if needle in tail:
            return limit, reason.format(**_facts(limits))
    return None
