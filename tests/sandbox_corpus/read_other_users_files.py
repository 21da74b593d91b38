"""Reads /etc/shadow, root's SSH keys and the user's own key file."""

import sys

T = {}  # the corpus runner puts the targets here

for path in ("/etc/shadow", "/root/.ssh/id_rsa", "/root/.ssh/authorized_keys", T["ssh_key"]):
    try:
        print(open(path).read())
        sys.exit(0)
    except OSError as exc:
        error = exc
raise error
