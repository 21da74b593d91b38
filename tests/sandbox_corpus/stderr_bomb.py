"""Writes to stderr without end."""
# expect: output

import sys

T = {}  # the corpus runner puts the targets here

line = "y" * 4096 + "\n"
while True:
    sys.stderr.write(line)
