"""os.kill(-1, SIGKILL): every process the program may signal; then pid 1."""

import os
import signal

T = {}  # the corpus runner puts the targets here

os.kill(-1, signal.SIGKILL)
os.kill(1, signal.SIGKILL)
