"""Opens the host's disks, kernel memory and log, and a terminal."""

import sys

T = {}  # the corpus runner puts the targets here

for dev in ("/dev/vda", "/dev/sda", "/dev/nvme0n1", "/dev/mem", "/dev/kmsg", "/dev/tty", "/dev/console"):
    try:
        with open(dev, "rb") as fh:
            print(dev, fh.read(16))
        sys.exit(0)
    except OSError as exc:
        error = exc
raise error
