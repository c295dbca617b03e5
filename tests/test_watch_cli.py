"""`livetiming-watch` end to end in a pseudo-terminal: against a real router
with two demo services, a hidden one and a relay (a service chosen by uuid on
the router, a hidden one by its uuid, on the relay, and through --master,
which picks the relay; the visible ones listed when none is chosen; an
unknown one refused), and against a standalone demo service; Ctrl-C
(SIGINT) exits 0 and leaves the screen."""
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time

import pytest

from network import relays_listed, router_env, start_relay, start_router, start_service
from processes import command

ROWS, COLUMNS = 40, 130
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")
LAP_TIME = r"\d:\d\d\.\d{3}"
RELAY_KEY = "watch-test-relay-key-0123456789"
STANDALONE = r"^Standalone server for uuid:([0-9a-f]{32}) listening on port:(\d+)$"


class Terminal:
    """A command whose stdin/stdout/stderr are a pseudo-terminal of ROWS x COLUMNS."""

    def __init__(self, args, env):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        env = {**os.environ, **env, "TERM": "xterm-256color", "COLUMNS": str(COLUMNS), "LINES": str(ROWS)}
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        self.raw = b""

    @property
    def text(self) -> str:
        return ANSI.sub("", self.raw.decode("utf-8", "replace"))

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: the other side is closed
            return False
        self.raw += data
        return bool(data)

    def wait_for(self, *patterns: str, timeout: float = 60) -> None:
        """Until the screen output so far matches every pattern (bounded)."""
        deadline = time.monotonic() + timeout
        while not all(re.search(pattern, self.text) for pattern in patterns):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"timed out waiting for {patterns}; screen:\n{self.text[-3000:]}"
            if not self._read(min(remaining, 1.0)) and self.proc.poll() is not None:
                raise AssertionError(f"exited ({self.proc.returncode}) before {patterns}:\n{self.text[-3000:]}")

    def finish(self, timeout: float = 30) -> int:
        """The exit code, reading the output until the end."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(0.5):
            if self.proc.poll() is not None and not select.select([self.master], [], [], 0)[0]:
                break
        return self.proc.wait(timeout=max(1.0, deadline - time.monotonic()))

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.finish()

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        os.close(self.master)


@pytest.fixture
def terminals(tmp_path):
    started = []

    def start(*args):
        terminal = Terminal([command("livetiming-watch"), *args], {"LIVETIMING_LOG_DIR": str(tmp_path / "logs")})
        started.append(terminal)
        return terminal

    yield start
    for terminal in started:
        terminal.close()


@pytest.fixture(scope="module")
def network(module_processes, tmp_path_factory):
    """A real router with two demo services and one keyed relay, listed at /relays."""
    tmp_path = tmp_path_factory.mktemp("watch")
    (tmp_path / "relay-keys").write_text(RELAY_KEY + "\n")
    router, url = start_router(module_processes, tmp_path,
                               env=router_env(tmp_path, LIVETIMING_RELAY_KEY_FILE=tmp_path / "relay-keys"))
    first = start_service(module_processes, url, tmp_path, "demo", "--cars", "20", "--speed", "10",
                          "-d", "First demo")[1]
    second = start_service(module_processes, url, tmp_path, "demo", "--cars", "20", "--speed", "10",
                           "-d", "Second demo", "--seed", "5")[1]
    relay = start_relay(module_processes, tmp_path, url, key=RELAY_KEY)[1]
    hidden = start_service(module_processes, url, tmp_path, "demo", "--cars", "20", "--speed", "10",
                           "-d", "Hidden demo", "-H")[1]
    return url, first, second, relay, hidden


def http_of(ws_url: str) -> str:
    return ws_url.replace("ws://", "http://").removesuffix("/ws")


def until_listed(master_http: str, relay: str, timeout: float = 60) -> None:
    """Poll /relays (no event to await) until the relay is listed."""
    deadline = time.monotonic() + timeout
    while relay not in relays_listed(master_http):
        assert time.monotonic() < deadline, f"{relay} never listed"
        time.sleep(0.2)


def assert_timing_screen(terminal, description: str, server: str) -> None:
    terminal.wait_for(description, "GREEN FLAG|NO FLAG", r"Num\s+State", LAP_TIME, "Messages",
                      re.escape(f"connected to {server}"))
    assert terminal.interrupt() == 0
    assert terminal.raw.endswith(b"\x1b[?1049l") or b"\x1b[?1049l" in terminal.raw[-200:]  # screen restored


def test_watch_a_service_by_uuid_on_a_router(network, terminals):
    url, first, second, relay, hidden = network
    assert_timing_screen(terminals("--url", url, "--service", first), "First demo", url)


def test_watch_a_hidden_service_by_its_uuid(network, terminals):
    url, first, second, relay, hidden = network
    assert_timing_screen(terminals("--url", url, "--service", hidden), "Hidden demo", url)


def test_watch_on_a_relay(network, terminals):
    url, first, second, relay, hidden = network
    assert_timing_screen(terminals("--url", relay, "--service", second), "Second demo", relay)


def test_watch_through_the_master_picks_its_relay(network, terminals):
    url, first, second, relay, hidden = network
    until_listed(http_of(url), relay)
    assert_timing_screen(terminals("--master", http_of(url), "--service", second[:8]), "Second demo", relay)
    # the same, recognised from the form of --url
    assert_timing_screen(terminals("--url", http_of(url), "--service", first), "First demo", relay)


def test_watch_with_columns_and_delay(network, terminals):
    url, first, second, relay, hidden = network
    terminal = terminals("--url", url, "--service", first, "--columns", "Num,Driver,Last", "--delay", "1")
    terminal.wait_for(r"Num\s+Driver\s+Last\s*\n", LAP_TIME, "delay 1s")
    assert not re.search(r"Num\s+State", terminal.text)
    assert terminal.interrupt() == 0


def test_several_services_are_listed(network, terminals):
    url, first, second, relay, hidden = network
    terminal = terminals("--url", url)
    assert terminal.finish(timeout=60) == 2
    assert "several services are running; choose one with --service" in terminal.text
    assert first in terminal.text and second in terminal.text and hidden not in terminal.text


def test_an_unknown_service_or_column_is_refused(network, terminals):
    url, first, second, relay, hidden = network
    terminal = terminals("--url", url, "--service", "no such race")
    assert terminal.finish(timeout=60) == 1
    assert "no single service matches 'no such race'" in terminal.text
    terminal = terminals("--url", url, "--service", first, "--columns", "Num,Tyre")
    assert terminal.finish(timeout=60) == 2
    assert "--columns: no column Tyre" in terminal.text


def test_watch_a_standalone_service(processes, service_env, terminals):
    service = processes([command("livetiming-service"), "demo", "--cars", "20", "--speed", "30",
                         "-d", "Standalone demo"])
    port = service.wait_for(STANDALONE, stream="stderr", timeout=30).group(2)
    assert_timing_screen(terminals("--standalone", f"ws://127.0.0.1:{port}"), "Standalone demo",
                         f"ws://127.0.0.1:{port}")
    # the same service recognised from the form of --url
    assert_timing_screen(terminals("--url", f"ws://127.0.0.1:{port}"), "Standalone demo", f"ws://127.0.0.1:{port}")
