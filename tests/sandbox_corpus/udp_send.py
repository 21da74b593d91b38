"""A UDP datagram to a socket bound on the host's 127.0.0.1."""
# expect: network

import socket

T = {}  # the corpus runner puts the targets here

with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.sendto(b"leak", ("127.0.0.1", T["udp_port"]))
