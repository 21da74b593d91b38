"""A raw AF_PACKET socket through ctypes (sniffing or forging frames)."""

import ctypes
import os

T = {}  # the corpus runner puts the targets here

libc = ctypes.CDLL(None, use_errno=True)
fd = libc.socket(17, 3, 0x0300)  # AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)
if fd < 0:
    raise OSError(ctypes.get_errno(), "socket(AF_PACKET): " + os.strerror(ctypes.get_errno()))
