"""A terminal that tells its size late: a pty between a command and the terminal it runs in.

tmux reflows its screen as soon as it is resized, but the program may learn
the size later (tmux passes sizes that come close together 250 ms apart,
and under load it reads the program's output after it reflowed): a frame
drawn for the old size lands on the new one. ``python late_size.py CONTROL
COMMAND...`` runs COMMAND on a pty of its own whose output goes to this
process's standard output (the terminal) as it comes; the terminal's size
is the command's at the start, then again each time a line arrives on the
FIFO CONTROL, and at no other time.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import sys
import termios


def _size(fd: int) -> bytes:
    return fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)


def main(argv: list[str]) -> int:
    control_path, command = argv[0], argv[1:]
    size = _size(sys.stdout.fileno())
    pid, master = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, size)
        os.execvp(command[0], command)
    control = os.open(control_path, os.O_RDWR)  # a writer of its own: no end of file
    while True:
        ready, _, _ = select.select([master, control], [], [])
        if control in ready:
            os.read(control, 1024)
            fcntl.ioctl(master, termios.TIOCSWINSZ, _size(sys.stdout.fileno()))
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the command's side is closed
                data = b""
            if not data:
                break
            while data:
                data = data[os.write(sys.stdout.fileno(), data) :]
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
