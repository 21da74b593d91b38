"""The sandbox's inside: run as a script by `sandbox.run_code`, never imported by evalhouse.

It starts as root in a process of its own and builds the cage before the model's code runs:

    launcher ── unshare(mount, net, pid, ipc, uts) ── fork ──> init (pid 1 of a new pid namespace)
        init: private mounts, a read-only root holding only the Python standard library, system
              libraries and the program's folder (a small tmpfs, the one writable place), chroot into
              it, then fork ──> program
        program: rlimits (CPU, address space, file size, open files, processes), a fresh unprivileged
              uid (so RLIMIT_NPROC holds), no_new_privs, an audit hook, then the model's code.

When the program ends, init reports its exit status on the status pipe and exits; the kernel then
kills whatever the program left behind in the namespace. If the launcher is killed (wall limit),
init dies with it (PDEATHSIG) and takes the namespace down. Without namespaces ("basic" isolation:
not root, or no kernel support) only the rlimits, the uid change (as root) and the audit hook apply.

Standard library only: this file runs under `python -s -S` without evalhouse on the path, and it imports
as little as it can (no json, re or enum), because its start-up time is paid by every program.
"""

import contextlib
import ctypes
import os
import resource
import sys

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
SIGKILL = 9
VIOLATION_EXIT = 97
MARKER = "evalhouse-sandbox: blocked"
WORK_INSIDE = "/sandbox"  # where the program's folder appears inside the namespace

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
        spec[key] = int(value) if value.lstrip("-").isdigit() else None if value == "" else value
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
    flags = MS_REMOUNT | MS_BIND | MS_NOSUID | (0 if writable else MS_RDONLY)
    _mount(None, target, None, flags)


def _build_root(root, work, read_roots, folder_mb, uid):
    """A tmpfs root with /usr, the standard library, a few devices and the work folder; then read-only."""
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            os.symlink(os.readlink(top), root + top)
        elif os.path.isdir(top):
            _bind(top, root)
    for path in ["/usr", "/etc/ld.so.cache", *read_roots]:
        if os.path.exists(path) and not path.startswith("/usr/"):
            _bind(path, root)
    os.makedirs(root + "/dev")
    for dev in ("null", "zero", "random", "urandom"):
        target = root + "/dev/" + dev
        open(target, "a").close()
        _mount("/dev/" + dev, target, None, MS_BIND)
    # The program's folder: a small tmpfs of its own (so it cannot fill the host's disk), holding main.py.
    inside = root + WORK_INSIDE
    os.makedirs(inside)
    _mount("tmpfs", inside, "tmpfs", MS_NOSUID | MS_NODEV, f"size={folder_mb}m,nr_inodes=4096,mode=0700")
    with open(os.path.join(work, "main.py"), "rb") as src, open(os.path.join(inside, "main.py"), "wb") as dst:
        dst.write(src.read())
    if uid is not None:
        os.chown(inside, uid, uid)
        os.chown(os.path.join(inside, "main.py"), uid, uid)
    _mount(None, root, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


# -- the program ------------------------------------------------------------------------------
def _limit(limits, uid):
    mb = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_s"], limits["cpu_s"] + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_mb"] * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_mb"] * mb,) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        # Counted per uid, and this uid is fresh: the cap covers exactly this program's processes.
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"],) * 2)
    else:
        # Basic isolation: the count includes the user's other processes (not enforced at all for root).
        resource.setrlimit(resource.RLIMIT_NPROC, (_own_processes() + limits["processes"],) * 2)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")


def _own_processes():
    me, count = os.getuid(), 0
    for pid in os.listdir("/proc"):
        with contextlib.suppress(OSError):
            count += pid.isdigit() and os.stat(f"/proc/{pid}").st_uid == me
    return count


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


def _run_program(spec, uid):
    """In the program's process: limits, identity, hook, then the model's code as __main__."""
    os.closerange(3, 1 << 16)
    work = WORK_INSIDE if spec["namespaces"] else spec["work"]
    _limit(spec, uid)
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
        import traceback

        sys.stdout.flush()
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != path:
            tb = tb.tb_next
        traceback.print_exception(type(exc), exc, tb)
        sys.stderr.flush()
        os._exit(1)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


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


def main():
    spec = parse_spec(sys.argv[1])
    status_fd = spec["status_fd"]
    uid = spec["uid"]
    try:
        _die_with_parent()
        if spec["namespaces"]:
            _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
            _mount(None, "/", None, MS_REC | MS_PRIVATE)
    except OSError as exc:
        _report(status_fd, {"setup_error": str(exc)})
        os._exit(2)
    init = os.fork()
    if init == 0:
        try:
            _die_with_parent()
            if spec["namespaces"]:
                _build_root(spec["root"], spec["work"], spec["read_roots"], spec["folder_mb"], uid)
                os.chroot(spec["root"])
            os.chdir(WORK_INSIDE if spec["namespaces"] else spec["work"])
        except OSError as exc:
            _report(status_fd, {"setup_error": str(exc)})
            os._exit(2)
        program = os.fork()
        if program == 0:
            _run_program(spec, uid)
        _report(status_fd, _wait_program(program))
        os._exit(0)
    _, status = os.waitpid(init, 0)
    os._exit(0 if os.WIFEXITED(status) else 3)


if __name__ == "__main__":
    main()
