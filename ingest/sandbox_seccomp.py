"""The sandbox's system-call filter, compiled by libseccomp (through `pyseccomp`) into a BPF program.

The filter is compiled once per collector process and handed to the launcher as bytes; the launcher
installs it with one prctl() just before the model's code runs, so the launcher stays standard-library
only and the compile is never paid per program. It is a deny-list on top of the namespaces: what it
refuses is what a hostile program would need to widen its cage or reach the kernel's larger surfaces
(new namespaces, mounts, tracing other processes, BPF, io_uring, keyrings, modules), plus every socket
(so even the "basic" fallback has no network) and leaving the process group (so one kill reaches all).

Without libseccomp (or pyseccomp) there is no filter: `compile_filter` returns None and the run's
isolation says so (no `+seccomp`).
"""

from __future__ import annotations

import errno
import functools
import logging
import tempfile

log = logging.getLogger("evalhouse.sandbox")

# Refused with EPERM ("Operation not permitted").
DENIED = (
    # the cage's walls: namespaces, mounts, roots
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    # other processes' memory and handles
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_open",
    "pidfd_getfd",
    "pidfd_send_signal",
    "tkill",
    # kernel surfaces no program needs
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "keyctl",
    "add_key",
    "request_key",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "syslog",
    "open_by_handle_at",
    "name_to_handle_at",
    "personality",
    "uselib",
    "vhangup",
    # leaving the process group the sandbox kills
    "setsid",
    "setpgid",
)
# Every new socket fails as if the machine had no network at all.
NO_NETWORK = ("socket",)
NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080
# CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET, NEWTIME
_PID_MASK = 0xFFFFFFFF  # pid_t is 32 bits: compare the low half, whatever the caller left in the high one


@functools.lru_cache(maxsize=4)
def compile_filter(parent_pid: int) -> bytes | None:
    """The BPF program (bytes of `struct sock_filter`), or None when libseccomp is not available.

    `parent_pid` (the collector) may not be signalled; nor may every process at once (kill -1)."""
    try:
        import pyseccomp as seccomp
    except (ImportError, RuntimeError, OSError) as exc:  # RuntimeError: pyseccomp found no libseccomp
        log.warning("sandbox: no system-call filter (%s)", exc)
        return None
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in DENIED:
        _deny(f, seccomp, seccomp.ERRNO(errno.EPERM), name)
    for name in NO_NETWORK:
        _deny(f, seccomp, seccomp.ERRNO(errno.EAFNOSUPPORT), name)
    eperm = seccomp.ERRNO(errno.EPERM)
    # clone3 passes its flags in memory, where a filter cannot look: ENOSYS makes libc fall back to clone.
    _deny(f, seccomp, seccomp.ERRNO(errno.ENOSYS), "clone3")
    for flag in _bits(NAMESPACE_FLAGS):
        f.add_rule(eperm, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    for pid in (_PID_MASK, parent_pid):  # -1 (every process) and the collector
        f.add_rule(eperm, "kill", seccomp.Arg(0, seccomp.MASKED_EQ, _PID_MASK, pid))
        f.add_rule(eperm, "tgkill", seccomp.Arg(0, seccomp.MASKED_EQ, _PID_MASK, pid))
    with tempfile.TemporaryFile() as fh:
        f.export_bpf(fh)
        fh.seek(0)
        program = fh.read()
    if not program or len(program) % 8:
        log.warning("sandbox: libseccomp exported an unusable filter (%d bytes)", len(program))
        return None
    return program


def _deny(f, seccomp, action, name: str) -> None:
    """One refused system call; a name this libseccomp or architecture lacks is skipped."""
    try:
        f.add_rule(action, name)
    except (OSError, ValueError, RuntimeError) as exc:
        log.debug("sandbox: system call %s not filtered (%s)", name, exc)


def _bits(mask: int) -> list[int]:
    return [1 << i for i in range(64) if mask >> i & 1]
