"""Writes a 1 GB file into its own folder."""
# expect: file

T = {}  # the corpus runner puts the targets here

block = b"z" * (1 << 20)
with open("huge.bin", "wb") as fh:
    for _ in range(1024):
        fh.write(block)
