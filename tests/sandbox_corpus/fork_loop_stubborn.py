"""Forks forever, sleeping and retrying when refused, so the children pile up until the end."""
# expect: processes|wall

import os
import time

T = {}  # the corpus runner puts the targets here

while True:
    try:
        if os.fork() == 0:
            time.sleep(3600)
    except OSError:
        time.sleep(0.01)
