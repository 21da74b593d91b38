"""The classic fork bomb."""
# expect: processes|wall

import os

T = {}  # the corpus runner puts the targets here

while True:
    os.fork()
