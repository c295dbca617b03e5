"""`python -m livetiming.orchestration.orphans PARENT_PID -- COMMAND...`:
run COMMAND so that it receives SIGTERM when its parent dies, whatever the
reason (SIGKILL included). `livetiming-router` starts Crossbar and every
component through this, so a killed supervisor never leaves a Crossbar
holding the port behind. Linux only (prctl); elsewhere COMMAND runs as is."""
import ctypes
import os
import signal
import sys
from typing import List, Optional

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> bool:
    """Ask the kernel for SIGTERM when the parent goes; False when the parent
    is already gone (then nobody will stop us: the caller should not start)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    return os.getppid() == parent_pid


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 3 or argv[1] != "--" or not argv[0].isdigit():
        print("usage: python -m livetiming.orchestration.orphans PARENT_PID -- COMMAND...", file=sys.stderr)
        return 2
    if not die_with_parent(int(argv[0])):
        return 1
    # Our own process group: Ctrl-C reaches only the supervisor, which then
    # stops its children in order (each exactly once).
    os.setpgid(0, 0)
    os.execvp(argv[2], argv[2:])
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main())
