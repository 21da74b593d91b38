"""Raw socket() and connect() system calls through ctypes, to a listening port on the host."""

import ctypes
import os
import socket
import struct

T = {}  # the corpus runner puts the targets here

libc = ctypes.CDLL(None, use_errno=True)
fd = libc.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
if fd < 0:
    raise OSError(ctypes.get_errno(), "socket(): " + os.strerror(ctypes.get_errno()))
address = struct.pack("!HH4s8x", socket.AF_INET, T["port"], socket.inet_aton("127.0.0.1"))
address = struct.pack("=H", socket.AF_INET) + address[2:]
if libc.connect(fd, address, len(address)) != 0:
    raise OSError(ctypes.get_errno(), "connect(): " + os.strerror(ctypes.get_errno()))
libc.write(fd, b"leak", 4)
