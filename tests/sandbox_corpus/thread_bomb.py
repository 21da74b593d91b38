"""Starts threads that sleep forever until no more can be started."""
# expect: processes|memory

import threading
import time

T = {}  # the corpus runner puts the targets here

while True:
    threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
