"""Leaves a child behind that sleeps forever, then tries to leave its session itself."""

import os
import time

T = {}  # the corpus runner puts the targets here

if os.fork() == 0:
    try:
        os.setsid()
    finally:
        time.sleep(3600)
os.setsid()
