"""Allocates 50 MB blocks until the machine runs out."""
# expect: memory

T = {}  # the corpus runner puts the targets here

blocks = []
while True:
    blocks.append(bytearray(50 << 20))
