"""Writes outside through a symlink made in its own folder, and reads /etc/shadow through another."""

import os

T = {}  # the corpus runner puts the targets here

os.symlink(T["outside"], "escape")
with open("escape/planted", "w") as fh:
    fh.write("through a symlink")
os.symlink("/etc/shadow", "shadow")
print(open("shadow").read())
