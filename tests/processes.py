"""Test support: start real command-line processes, await what they print
(bounded), and always stop them."""
import os
import queue
import re
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import List, Optional

BIN = Path(sys.executable).parent


def command(name: str) -> str:
    """A console script installed next to this interpreter."""
    path = BIN / name
    assert path.exists(), f"{name} is not installed in {BIN}"
    return str(path)


class Process:
    """A child process whose stdout/stderr lines are collected by reader threads."""

    def __init__(self, args: List[str], env: Optional[dict] = None, cwd=None):
        self.args = args
        self.lines: "queue.Queue[tuple]" = queue.Queue()
        self.output: List[str] = []
        self.proc = subprocess.Popen(
            args, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, cwd=cwd,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
            start_new_session=True,
        )
        for stream, name in ((self.proc.stdout, "stdout"), (self.proc.stderr, "stderr")):
            threading.Thread(target=self._read, args=(stream, name), daemon=True).start()

    def _read(self, stream, name):
        for line in stream:
            self.output.append(f"{name}: {line.rstrip()}")
            self.lines.put((name, line.rstrip("\n")))
        self.lines.put((name, None))

    def wait_for(self, pattern: str, timeout: float = 30, stream: Optional[str] = None) -> re.Match:
        """The first new line matching `pattern`; fails with the output so far on timeout or exit."""
        regex = re.compile(pattern)
        closed = set()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {pattern!r}; output:\n" + "\n".join(self.output[-50:]))
            try:
                name, line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                closed.add(name)
                if len(closed) == 2:
                    raise AssertionError(f"process exited ({self.proc.wait()}) before {pattern!r}; output:\n"
                                         + "\n".join(self.output[-50:]))
                continue
            if stream in (None, name):
                match = regex.search(line)
                if match:
                    return match

    def signal(self, sig=signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout: float = 20) -> int:
        return self.proc.wait(timeout=timeout)

    def stop(self, timeout: float = 10) -> Optional[int]:
        """SIGTERM, then SIGKILL the whole process group if it lingers."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=timeout)
        return self.proc.returncode


def children_of(pid: int) -> List[int]:
    """The direct children of a process (Linux /proc)."""
    found = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(child) for child in (task / "children").read_text().split()]
    except OSError:
        pass
    return found


def descendants(pid: int) -> List[int]:
    """Every process below `pid`, found through the process tree itself
    (not by matching command lines)."""
    found, todo = [], [pid]
    while todo:
        for child in children_of(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def command_line(pid: int) -> List[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().split("\0")
    except OSError:
        return []


def alive(pid: int) -> bool:
    """A running process; a zombie (exited, not yet reaped) is not."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_gone(pids: List[int], timeout: float = 30) -> None:
    """Wait (bounded) until every one of `pids` has exited: a pidfd becomes
    readable when its process ends, so this waits on events, not a timer."""
    handles = []
    for pid in pids:
        try:
            handles.append(os.pidfd_open(pid))
        except ProcessLookupError:
            pass
    try:
        deadline = time.monotonic() + timeout
        pending = list(handles)
        while pending:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"still running: {[p for p in pids if alive(p)]}"
            ready, _, _ = select.select(pending, [], [], remaining)
            pending = [handle for handle in pending if handle not in ready]
    finally:
        for handle in handles:
            os.close(handle)
