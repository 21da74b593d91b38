"""A busy loop."""
# expect: cpu|wall

T = {}  # the corpus runner puts the targets here

while True:
    pass
