"""A busy loop."""
# expect: cpu

T = {}  # the corpus runner puts the targets here

while True:
    pass
