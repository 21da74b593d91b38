"""Four processes of 120 MB each: under the per-process cap, over the total."""
# expect: memory

import os
import time

T = {}  # the corpus runner puts the targets here

for _ in range(4):
    if os.fork() == 0:
        block = bytearray(120 << 20)
        time.sleep(60)
time.sleep(60)
