"""Runs a command under a real pseudo-terminal (120 columns, 30 rows) and
writes everything it printed to OUT; exits with the command's exit code.

usage: pty_run.py OUT COMMAND [ARG...]
"""

import fcntl
import os
import pty
import struct
import sys
import termios

out_path, argv = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    os.execvp(argv[0], argv)

captured = bytearray()
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:  # EIO: the child closed the terminal
        break
    if not chunk:
        break
    captured += chunk
_, status = os.waitpid(pid, 0)
with open(out_path, "wb") as out:
    out.write(captured)
sys.exit(os.waitstatus_to_exitcode(status) % 256)
