"""The sandbox's inside: run as a script by `sandbox.run_code`, never imported by evalhouse.

It starts in a process of its own and builds the cage before the model's code runs:

    launcher ── [userns: a user namespace mapping one uid] ── unshare(mount, net, pid, ipc, uts) ── fork ──>
    init (pid 1 of a new pid namespace): private mounts, a read-only root holding only the Python standard
          library, system libraries and the program's folder (a small tmpfs, the one writable place),
          chroot into it, then fork ──>
    program: rlimits (CPU, address space, file size, open files, processes), its identity (as root: a fresh
          unprivileged uid; in a user namespace: every capability dropped), no_new_privs, the seccomp
          filter, an audit hook, then the model's code.

Four cages (`cage` in the spec): "namespaces" (the launcher is root: no user namespace is needed, and
the program gets a uid no one else has), "userns" (any user, where the kernel allows unprivileged user
namespaces: the same walls, built inside a user namespace of its own), "landlock" (no namespaces, but a
Landlock domain, ABI 6+: the program may read only the system's and Python's folders and write only its
own, and may signal or trace no process outside its domain; with the filter, no socket) and "basic"
(no namespaces: only rlimits, the filter and the hook; escapable, so `sandbox.run_code` refuses it
unless asked). Without namespaces ("landlock", "basic") the program's folder is on the host's disk.

In a user namespace RLIMIT_NPROC counts the processes of that namespace only (Linux 5.14 and later:
limits are kept per namespace), so the process cap holds without a uid of its own. When the program
ends, init reports its exit status on the status pipe and exits; the kernel then kills whatever the
program left behind in the namespace. If the launcher is killed (wall limit), init dies with it
(PDEATHSIG) and takes the namespace down.

Standard library only: this file runs under `python -s -S` without evalhouse on the path, and it imports
as little as it can (no json, re or enum), because its start-up time is paid by every program.
"""

import contextlib
import ctypes
import os
import resource
import sys

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
CAGE_FLAGS = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
# Mount flags a remount inside a user namespace must keep as they are (the kernel locks them).
MS_KEPT = 1 | 2 | 4 | 8 | 1024 | 2048 | 4096  # RDONLY NOSUID NODEV NOEXEC NOATIME NODIRATIME RELATIME
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_SECCOMP, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 24, 22, 36, 38
SECCOMP_MODE_FILTER = 2
INNER_ID = 1000  # the one uid and gid of a user namespace cage
SIGKILL = 9
VIOLATION_EXIT = 97
MARKER = "evalhouse-sandbox: blocked"
WORK_INSIDE = "/sandbox"  # where the program's folder appears inside the namespace
OPEN_FILES = 64
FOLDER_FILES = 4096  # entries in the program's folder (its tmpfs's inodes; polled by the parent on disk)
HOST_CAGES = ("landlock", "basic")  # no namespaces: the program sees the host's paths
# Landlock (linux/landlock.h); its system calls have one number on every architecture.
LANDLOCK_CREATE_RULESET, LANDLOCK_ADD_RULE, LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_VERSION, LANDLOCK_RULE_PATH_BENEATH, LANDLOCK_MIN_ABI = 1, 1, 6  # 6: signals scoped to the domain
LL_EXECUTE, LL_WRITE_FILE, LL_READ_FILE, LL_READ_DIR = 1, 2, 4, 8
LL_MAKE_CHAR, LL_MAKE_BLOCK, LL_TRUNCATE, LL_IOCTL_DEV = 1 << 6, 1 << 11, 1 << 14, 1 << 15
LL_ALL_FS, LL_ALL_NET, LL_ALL_SCOPES = (1 << 16) - 1, 3, 3  # as of ABI 5, 4 and 6
TOP_FOLDERS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")  # folders, or symlinks into /usr
SYSTEM_READ = ("/usr", *TOP_FOLDERS, "/etc/ld.so.cache")
DEVICES = ("null", "zero", "random", "urandom")

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None):
    enc = lambda s: None if s is None else os.fsencode(s)
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def _die_with_parent():
    _check(_libc.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")


def parse_spec(text):
    """The launcher's orders: `key=value` lines (ints where they look like ints, lists split on `:`)."""
    spec = {}
    for line in text.splitlines():
        key, _, value = line.partition("=")
        spec[key] = int(value) if value.lstrip("-").isdigit() and key != "seccomp" else None if value == "" else value
    spec["read_roots"] = [r for r in (spec.get("read_roots") or "").split(":") if r]
    return spec


def format_spec(spec):
    """The inverse of `parse_spec`, used by the parent (`sandbox.run_code`)."""
    flat = {**spec, "read_roots": ":".join(spec["read_roots"])}
    return "\n".join(f"{k}={'' if v is None else int(v) if isinstance(v, bool) else v}" for k, v in flat.items())


# -- the cage ---------------------------------------------------------------------------------
def _bind(source, root, writable=False, at=None):
    """Bind `source` inside `root` (at the same path unless `at`), read-only unless asked, never setuid."""
    target = root + (at or source)
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "a").close()
    _mount(source, target, None, MS_BIND | MS_REC)
    kept = os.statvfs(target).f_flag & MS_KEPT  # ST_* and MS_* flags share their values
    flags = kept | MS_REMOUNT | MS_BIND | MS_NOSUID | (0 if writable else MS_RDONLY)
    _mount(None, target, None, flags)


def _build_root(root, work, read_roots, folder_mb, uid):
    """A tmpfs root with /usr, the standard library, a few devices and the work folder; then read-only."""
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    for top in TOP_FOLDERS:
        if os.path.islink(top):
            os.symlink(os.readlink(top), root + top)
        elif os.path.isdir(top):
            _bind(top, root)
    for path in ["/usr", "/etc/ld.so.cache", *read_roots]:
        if os.path.exists(path) and not path.startswith("/usr/"):
            _bind(path, root)
    os.makedirs(root + "/dev")
    for dev in DEVICES:
        target = root + "/dev/" + dev
        open(target, "a").close()
        _mount("/dev/" + dev, target, None, MS_BIND)
    # The program's folder: a small tmpfs of its own (so it cannot fill the host's disk), holding main.py.
    inside = root + WORK_INSIDE
    os.makedirs(inside)
    _mount("tmpfs", inside, "tmpfs", MS_NOSUID | MS_NODEV, f"size={folder_mb}m,nr_inodes={FOLDER_FILES},mode=0700")
    with open(os.path.join(work, "main.py"), "rb") as src, open(os.path.join(inside, "main.py"), "wb") as dst:
        dst.write(src.read())
    if uid is not None:
        os.chown(inside, uid, uid)
        os.chown(os.path.join(inside, "main.py"), uid, uid)
    _mount(None, root, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


# -- the program ------------------------------------------------------------------------------
def _process_cap(spec):
    """RLIMIT_NPROC for the program, worked out before the cage hides /proc.

    A fresh uid, or a user namespace on Linux 5.14+, counts only the sandbox's own processes (in a
    user namespace the launcher and init count too); otherwise the user's other processes do."""
    if spec["cage"] != "userns" and spec["uid"] is not None:
        return spec["processes"]
    if spec["cage"] == "userns" and _kernel() >= (5, 14):
        return spec["processes"] + 2
    return _own_processes() + spec["processes"] + 2


def _kernel():
    release = os.uname().release.split("-")[0].split(".")
    return tuple(int(part) for part in release[:2] if part.isdigit())


def _own_processes():
    me, count = os.getuid(), 0
    for pid in os.listdir("/proc"):
        with contextlib.suppress(OSError):
            count += pid.isdigit() and os.stat(f"/proc/{pid}").st_uid == me
    return count


def _limit(spec, nproc):
    mb = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (spec["cpu_s"], spec["cpu_s"] + 1))
    resource.setrlimit(resource.RLIMIT_AS, (spec["memory_mb"] * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (spec["file_mb"] * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    uid = spec["uid"]
    if spec["cage"] != "userns" and uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    if spec["cage"] == "userns":
        _drop_capabilities()
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities():
    """The creator of a user namespace holds every capability in it: give them all up, for good."""
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break  # past the kernel's last capability
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()  # _LINUX_CAPABILITY_VERSION_3, all zero
    _check(_libc.capset(ctypes.byref(header), data), "capset")


class _LandlockRuleset(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _LandlockPath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi():
    """The kernel's Landlock ABI version; 0 or less when Landlock is off or unknown."""
    return _libc.syscall(LANDLOCK_CREATE_RULESET, None, 0, LANDLOCK_VERSION)


def _landlock(work, read_roots):
    """Restrict this process and its descendants, for good: read and run the system's and Python's folders,
    read and write the program's folder and four devices; no TCP; no signal or trace outside the domain."""
    abi = landlock_abi()
    if abi < LANDLOCK_MIN_ABI:
        raise OSError(f"Landlock ABI {abi} (need {LANDLOCK_MIN_ABI}+: signals scoped to the domain)")
    ruleset = _LandlockRuleset(LL_ALL_FS, LL_ALL_NET, LL_ALL_SCOPES)
    fd = _libc.syscall(LANDLOCK_CREATE_RULESET, ctypes.byref(ruleset), ctypes.sizeof(ruleset), 0)
    _check(0 if fd >= 0 else -1, "landlock_create_ruleset")
    try:
        read = LL_EXECUTE | LL_READ_FILE | LL_READ_DIR
        grants = [(path, read) for path in (*SYSTEM_READ, *read_roots)]
        grants += [("/dev/" + dev, LL_READ_FILE | LL_WRITE_FILE | LL_TRUNCATE) for dev in DEVICES]
        grants.append((work, LL_ALL_FS & ~(LL_MAKE_CHAR | LL_MAKE_BLOCK | LL_IOCTL_DEV)))
        for path, allowed in grants:
            try:
                target = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            try:
                if not os.path.isdir(path):  # a file takes only the rights that apply to files
                    allowed &= LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_TRUNCATE | LL_IOCTL_DEV
                rule = _LandlockPath(allowed, target)
                _check(_libc.syscall(LANDLOCK_ADD_RULE, fd, LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule), 0), path)
            finally:
                os.close(target)
        _check(_libc.syscall(LANDLOCK_RESTRICT_SELF, fd, 0), "landlock_restrict_self")
    finally:
        os.close(fd)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


def _install_filter(program):
    """The seccomp filter compiled by the parent (sandbox_seccomp.py); it holds for every descendant."""
    fprog = _SockFprog(len(program) // 8, program)
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "prctl(SECCOMP)")


_PATH_EVENTS = {
    "os.remove",
    "os.rename",
    "os.mkdir",
    "os.rmdir",
    "os.chmod",
    "os.chown",
    "os.link",
    "os.symlink",
    "os.truncate",
    "os.utime",
    "shutil.rmtree",
    "shutil.copyfile",
    "shutil.move",
}
_SUBPROCESS_EVENTS = {
    "subprocess.Popen",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.forkpty",
    "pty.spawn",
}


def _install_audit_hook(work, read_roots):
    """Stop the program at its first attempt to reach outside its folder, with the reason on stderr."""
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    readable = [work, *read_roots, "/dev/null", "/dev/urandom", "/dev/random", "/dev/zero"]
    inside = lambda path, roots: any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)

    def block(what, detail):
        sys.stdout.flush()
        os.write(2, f"\n{MARKER} {what}: {detail}\n".encode(errors="replace"))
        os._exit(VIOLATION_EXIT)

    def resolve(path):
        return os.path.realpath(os.fsdecode(path))

    def hook(event, args):
        if event == "open":
            path, mode, flags = args
            if path is None or isinstance(path, int):
                return
            real = resolve(path)
            writing = bool(flags & write_flags) or any(c in (mode or "") for c in "wax+")
            if not inside(real, [work, "/dev/null"] if writing else readable):
                block("filesystem", f"{'write to' if writing else 'read of'} {real}")
        elif event in _PATH_EVENTS:
            for arg in args:
                if isinstance(arg, (str, bytes, os.PathLike)) and not inside(resolve(arg), [work]):
                    block("filesystem", f"{event} {resolve(arg)}")
        elif event in ("os.listdir", "os.scandir"):
            if args and isinstance(args[0], (str, bytes, os.PathLike)) and not inside(resolve(args[0]), readable):
                block("filesystem", f"listing {resolve(args[0])}")
        elif event.startswith("socket."):
            block("network", f"{event}{args!r}"[:200])
        elif event in _SUBPROCESS_EVENTS:
            block("subprocess", f"{event}{args!r}"[:200])
        elif event.startswith("ctypes."):
            block("ctypes", event)

    sys.addaudithook(hook)


def _run_program(spec, nproc, program):
    """In the program's process: limits, identity, filter, hook, then the model's code as __main__."""
    os.closerange(3, 1 << 16)
    work = spec["work"] if spec["cage"] in HOST_CAGES else WORK_INSIDE
    _limit(spec, nproc)
    if spec["cage"] == "landlock":
        _landlock(work, spec["read_roots"])
    if program:
        _install_filter(program)
    path = os.path.join(work, "main.py")
    with open(path, "rb") as fh:
        source = fh.read()
    if spec["audit"]:
        _install_audit_hook(work, spec["read_roots"])
    sys.argv = ["main.py"]
    sys.path[0] = work
    main = type(sys)("__main__")
    main.__file__ = path
    sys.modules["__main__"] = main
    try:
        exec(compile(source, path, "exec"), main.__dict__)
    except SystemExit as exc:
        sys.stdout.flush()
        code = exc.code
        if code is None or isinstance(code, int):
            os._exit(code or 0)
        print(code, file=sys.stderr)
        os._exit(1)
    except BaseException as exc:  # the program's own error: report it as Python would
        sys.stdout.flush()
        _print_error(exc, path)
        os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _print_error(exc, path):
    """The traceback from the program's own frames on; its last line alone when even that fails (no
    descriptor left to read the traceback module with, no memory)."""
    try:
        import traceback

        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != path:
            tb = tb.tb_next
        traceback.print_exception(type(exc), exc, tb)
        sys.stderr.flush()
    except BaseException:
        os.write(2, f"{type(exc).__name__}: {exc}\n".encode(errors="replace"))


def _wait_program(pid):
    """Reap everything, and return the program's status once it ends."""
    while True:
        try:
            got, status, usage = os.wait4(-1, 0)
        except ChildProcessError:
            return {"exit": None}
        if got == pid:
            cpu = usage.ru_utime + usage.ru_stime
            if os.WIFSIGNALED(status):
                return {"signal": os.WTERMSIG(status), "cpu_s": cpu}
            return {"exit": os.WEXITSTATUS(status), "cpu_s": cpu}


def _report(fd, payload):
    os.write(fd, (repr(payload) + "\n").encode())


def _enter(cage):
    """The launcher's own namespaces (the PID namespace is its children's)."""
    if cage == "userns":
        uid, gid = os.getuid(), os.getgid()
        _check(_libc.unshare(CLONE_NEWUSER | CAGE_FLAGS), "unshare")
        for name, line in (
            ("setgroups", "deny"),
            ("uid_map", f"{INNER_ID} {uid} 1"),
            ("gid_map", f"{INNER_ID} {gid} 1"),
        ):
            with open(f"/proc/self/{name}", "w") as fh:
                fh.write(line)
    elif cage == "namespaces":
        _check(_libc.unshare(CAGE_FLAGS), "unshare")
    if cage not in HOST_CAGES:
        _mount(None, "/", None, MS_REC | MS_PRIVATE)


def main():
    spec = parse_spec(sys.argv[1])
    status_fd, cage = spec["status_fd"], spec["cage"]
    try:
        _die_with_parent()
        program = bytes.fromhex(spec["seccomp"]) if spec["seccomp"] else None
        nproc = _process_cap(spec)
        _enter(cage)
    except OSError as exc:
        _report(status_fd, {"setup_error": str(exc)})
        os._exit(2)
    init = os.fork()
    if init == 0:
        try:
            _die_with_parent()
            if cage in HOST_CAGES:
                # Orphans stay below init (and in the memory count) instead of moving to the host's init.
                _check(_libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "prctl(CHILD_SUBREAPER)")
                os.chdir(spec["work"])
            else:
                uid = spec["uid"] if cage == "namespaces" else None
                _build_root(spec["root"], spec["work"], spec["read_roots"], spec["folder_mb"], uid)
                os.chroot(spec["root"])
                os.chdir(WORK_INSIDE)
        except OSError as exc:
            _report(status_fd, {"setup_error": str(exc)})
            os._exit(2)
        child = os.fork()
        if child == 0:
            try:
                _run_program(spec, nproc, program)
            except BaseException as exc:  # the cage's last steps failed: say so, never run launcher code
                os.write(2, f"\nevalhouse-sandbox: program setup failed: {exc}\n".encode(errors="replace"))
            os._exit(1)
        _report(status_fd, _wait_program(child))
        os._exit(0)
    _, status = os.waitpid(init, 0)
    os._exit(0 if os.WIFEXITED(status) else 3)


if __name__ == "__main__":
    main()
