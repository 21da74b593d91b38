"""Prints without end."""
# expect: output

T = {}  # the corpus runner puts the targets here

line = "x" * 4096
while True:
    print(line)
