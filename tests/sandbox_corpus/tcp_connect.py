"""A TCP connection to a port listening on the host's 127.0.0.1."""
# expect: network

import socket

T = {}  # the corpus runner puts the targets here

with socket.create_connection(("127.0.0.1", T["port"]), timeout=2) as s:
    s.sendall(b"leak")
