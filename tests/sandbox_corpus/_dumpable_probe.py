"""Can a plain (unsandboxed) child of the same uid read this process's environment, before and after run_code?

Prints two words: what the child found before the first run_code (1: the key, once) and after it (the
error it got, PermissionError, once run_code has made this process non-dumpable).
"""

import subprocess
import sys

from evalhouse.ingest.sandbox import Limits, run_code

READER = """
import os
try:
    with open(f"/proc/{os.getppid()}/environ") as fh:
        print(fh.read().count(os.environ["EVALHOUSE_API_KEY"]))
except OSError as exc:
    print(type(exc).__name__)
"""


def child_reads() -> str:
    return subprocess.run([sys.executable, "-c", READER], capture_output=True, text=True, check=True).stdout.strip()


before = child_reads()
run_code("print(1)", Limits())
print(before, child_reads())
