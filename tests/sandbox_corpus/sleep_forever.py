"""Sleeps forever without using any CPU."""
# expect: wall

import time

T = {}  # the corpus runner puts the targets here

time.sleep(10**9)
