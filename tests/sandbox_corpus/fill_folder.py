"""Fills its folder with many files, each under the file-size cap."""
# expect: file

T = {}  # the corpus runner puts the targets here

block = b"z" * (4 << 20)
for i in range(1000):
    with open(f"f{i}.bin", "wb") as fh:
        fh.write(block)
