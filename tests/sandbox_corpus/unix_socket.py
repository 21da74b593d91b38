"""A connection to a Unix socket listening on the host."""
# expect: network|filesystem

import socket

T = {}  # the corpus runner puts the targets here

with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
    s.connect(T["unix"])
    s.sendall(b"leak")
