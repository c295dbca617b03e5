"""The shell every Crossbar node of the network runs under (`livetiming-router`
and `livetiming-relay`): start Crossbar with the node's config and, beside it,
the node's component processes, then supervise them all. A component that
dies is restarted within seconds while routing goes on, and a Crossbar that
dies is restarted too (components and clients reconnect by themselves).
Every child runs under `orphans`, so that the command dying for any reason,
SIGKILL included, never leaves a Crossbar holding the port behind. The
restart rules live in `orchestration/supervisor.py`; this module spawns,
reaps and reports."""
import argparse
import json
import os
import signal
import socket
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from twisted.internet import protocol, task
from twisted.internet.error import ProcessExitedAlready

from ..atomic import write_atomically
from ..orchestration.supervisor import ChildRecord, describe_exit
from .errors import FAILURE

READY_TIMEOUT = 90.0
STOP_TIMEOUT = 30.0
PREVIOUS_NODE_TIMEOUT = 30.0
PROBE_INTERVAL = 0.1
CROSSBAR = "crossbar"
SUPERVISOR_PID = "supervisor.pid"


class ConfigurationError(Exception):
    """A setting is unusable; the message says which."""


def port_number(text: str) -> int:
    try:
        port = int(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is between 1 and 65535, not {port}")
    return port


def executable(name: str) -> Optional[str]:
    """A console script: beside this interpreter (a virtualenv), else on PATH."""
    import shutil

    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def probe_address(interface: str) -> tuple:
    """(family, address) to bind or connect to for a listening interface."""
    try:
        family, _, _, _, address = socket.getaddrinfo(interface, None, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError):
        raise ConfigurationError(f"--interface {interface!r} is not an address of this machine") from None
    host = address[0]
    if host == "0.0.0.0":
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return family, host


def port_is_free(interface: str, port: int) -> bool:
    family, _ = probe_address(interface)
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((interface, port))
        except OSError:
            return False
    return True


def port_is_open(interface: str, port: int) -> bool:
    _, host = probe_address(interface)
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def process_alive(pid: int) -> bool:
    """True for a running process (a zombie is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def pid_in(path: Path) -> Optional[int]:
    """The pid recorded in a pid file (Crossbar's JSON or our plain number)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    try:
        data = json.loads(text)
        pid = data["pid"] if isinstance(data, dict) else data
        return int(pid)
    except (ValueError, KeyError, TypeError):
        return None


def prepare_node_directory(cbdir: Path) -> None:
    """The node directory holds the private sockets: only its owner may enter."""
    if cbdir.exists() and not cbdir.is_dir():
        raise ConfigurationError(f"--cbdir {cbdir} is not a directory")
    try:
        cbdir.mkdir(parents=True, exist_ok=True, mode=0o700)
        cbdir.chmod(0o700)
    except OSError as error:
        raise ConfigurationError(f"cannot use the node directory {cbdir}: {error.strerror}") from None


def claim_node_directory(cbdir: Path, timeout: float = PREVIOUS_NODE_TIMEOUT) -> None:
    """Refuse a node directory another live router runs from; wait for (or
    end) the Crossbar of a router that died, which its death signal is
    already stopping, so that a restart on the same port works at once."""
    other = pid_in(cbdir / SUPERVISOR_PID)
    if other and other != os.getpid() and process_alive(other):
        raise ConfigurationError(f"another supervisor (pid {other}) runs from {cbdir}")
    orphan = pid_in(cbdir / "node.pid")
    if orphan and process_alive(orphan):
        import time

        deadline = time.monotonic() + timeout
        os.kill(orphan, signal.SIGTERM)
        while process_alive(orphan) and time.monotonic() < deadline:
            time.sleep(0.1)
        if process_alive(orphan):
            os.kill(orphan, signal.SIGKILL)
    write_atomically(cbdir / SUPERVISOR_PID, f"{os.getpid()}\n", mode=0o600)


@dataclass
class ChildSpec:
    """How to run one supervised child."""

    argv: List[str]
    env: Dict[str, str] = field(default_factory=dict)
    """Added to this process's environment."""
    reports_ready: bool = True
    """Writes `ready` on fd 3 (component hosts); others (the demo race, local
    relays) count as ready when started and write to our stdout."""


@dataclass
class NodePlan:
    """What a node runs: Crossbar, then its component hosts once Crossbar's
    port is open, then its extras once every host is ready."""

    prog: str
    crossbar: ChildSpec
    cbdir: Path
    port: int
    interface: str
    hosts: Dict[str, ChildSpec]
    ready_lines: List[str]
    extras: Dict[str, ChildSpec] = field(default_factory=dict)
    private_sockets: Sequence[str] = ()
    log_path: Optional[Path] = None


class Child(protocol.ProcessProtocol):
    """One supervised process: reports readiness (fd 3) and its end."""

    def __init__(self, supervisor: "NodeSupervisor", record: ChildRecord):
        self.supervisor = supervisor
        self.record = record

    def childDataReceived(self, fd: int, data: bytes) -> None:
        if fd == 3 and b"ready" in data:
            self.supervisor.child_ready(self)

    def processEnded(self, reason) -> None:
        self.supervisor.child_ended(self, reason.value)


class NodeSupervisor:
    """Spawns Crossbar and the component hosts, restarts what dies, stops
    everything on SIGINT/SIGTERM (a second signal changes nothing)."""

    def __init__(self, plan: NodePlan, reactor=None):
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.plan = plan
        self.specs: Dict[str, ChildSpec] = {CROSSBAR: plan.crossbar, **plan.hosts, **plan.extras}
        self.records: Dict[str, ChildRecord] = {}
        self.children: Dict[str, Child] = {}
        self.announced = False
        self.stopping = False
        self.exit_code = 0
        self._log_fd: Optional[int] = None
        self._probe: Optional[task.LoopingCall] = None
        self._deadline = None

    # --- running -----------------------------------------------------------------

    def run(self) -> int:
        from ..observability import open_log_fd

        if self.plan.log_path is not None:
            self._log_fd = open_log_fd(self.plan.log_path)
        try:
            self.reactor.callWhenRunning(self._start)
            self.reactor.run()  # Twisted's handlers reap children (SIGCHLD); ours replace SIGINT/SIGTERM
        finally:
            if self._log_fd is not None:
                os.close(self._log_fd)
        return self.exit_code

    def _start(self) -> None:
        # A second stop signal (Ctrl-C, then SIGTERM from a service manager) changes nothing.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self.reactor.callFromThread(self.stop))
        self._deadline = self.reactor.callLater(READY_TIMEOUT, self._not_ready)
        self._spawn(CROSSBAR)

    def _report(self, text: str, error: bool = False) -> None:
        print(f"{self.plan.prog}: {text}", file=sys.stderr if error else sys.stdout, flush=True)

    def _spawn(self, name: str) -> None:
        spec = self.specs[name]
        record = self.records.setdefault(name, ChildRecord(name))
        child = Child(self, record)
        argv = [sys.executable, "-m", "livetiming.orchestration.orphans", str(os.getpid()), "--", *spec.argv]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **spec.env}
        if spec.reports_ready or name == CROSSBAR:
            out = self._log_fd if self._log_fd is not None else 1
            fds = {0: "w", 1: out, 2: out if self._log_fd is not None else 2, 3: "r"}
        else:
            fds = {0: "w", 1: 1, 2: 2}
        record.started(self.reactor.seconds())
        self.children[name] = child
        self.reactor.spawnProcess(child, argv[0], argv, env=env, childFDs=fds)
        if name == CROSSBAR:
            self._probe = task.LoopingCall(self._probe_port)
            self._probe.clock = self.reactor
            self._probe.start(PROBE_INTERVAL, now=False)

    def _probe_port(self) -> None:
        if not port_is_open(self.plan.interface, self.plan.port):
            return
        self._probe.stop()
        self._probe = None
        self.records[CROSSBAR].ready = True
        for name in self.plan.hosts:
            if name not in self.children:
                self._spawn(name)
        if self.announced:
            self._report("Crossbar is back")
        self._maybe_announce()

    def child_ready(self, child: Child) -> None:
        record = child.record
        was_ready = record.ready
        record.ready = True
        self._secure_sockets()
        if self.announced:
            self._report(f"component {record.name} {'rejoined the router' if was_ready else 'is back'}")
        self._maybe_announce()

    def _essential(self) -> List[str]:
        return [CROSSBAR, *self.plan.hosts]

    def _maybe_announce(self) -> None:
        if self.announced or self.stopping:
            return
        if not all(self.records.get(name) and self.records[name].ready for name in self._essential()):
            return
        self.announced = True
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        for line in self.plan.ready_lines:
            print(line, flush=True)
        for name in self.plan.extras:
            self._spawn(name)

    def _secure_sockets(self) -> None:
        """Twisted creates unix sockets 0666; the node directory (0700) already
        keeps others out, and the sockets themselves are made owner-only too."""
        for name in self.plan.private_sockets:
            try:
                (self.plan.cbdir / name).chmod(0o600)
            except OSError:
                pass

    def _see_log(self) -> str:
        return f"; see {self.plan.log_path}" if self.plan.log_path else ""

    def _stop_probe(self) -> None:
        if self._probe is not None and self._probe.running:
            self._probe.stop()

    def _not_ready(self) -> None:
        missing = [name for name in self._essential() if not (name in self.records and self.records[name].ready)]
        self._report(f"error: not ready after {READY_TIMEOUT:.0f} s: {', '.join(missing)}{self._see_log()}",
                     error=True)
        self.exit_code = FAILURE
        self.stop()

    def child_ended(self, child: Child, status) -> None:
        name = child.record.name
        if self.children.get(name) is child:
            del self.children[name]
        if self.stopping:
            if not self.children:
                self.reactor.stop()
            return
        if name == CROSSBAR:
            self._stop_probe()
            if not self.announced:
                self._report(f"error: Crossbar did not start ({describe_exit(status)}){self._see_log()}", error=True)
                self.exit_code = FAILURE
                self.stop()
                return
        delay = child.record.exited(self.reactor.seconds())
        self._report(f"{name} stopped unexpectedly ({describe_exit(status)}); restarting it in {delay:g} s",
                     error=True)
        self.reactor.callLater(delay, self._restart, name)

    def _restart(self, name: str) -> None:
        if not self.stopping and name not in self.children:
            self._spawn(name)
            self._report(f"{name} restarted")

    # --- stopping ----------------------------------------------------------------

    def stop(self) -> None:
        """SIGTERM every child at once (no order is needed: a component that
        loses Crossbar just stops too), then stop the reactor when the last
        has ended; leftovers are killed after STOP_TIMEOUT."""
        if self.stopping:
            return
        self.stopping = True
        self._stop_probe()
        if not self.children:
            self.reactor.stop()
            return
        for child in list(self.children.values()):
            self._signal(child, signal.SIGTERM)
        self.reactor.callLater(STOP_TIMEOUT, self._kill_leftovers)

    def _kill_leftovers(self) -> None:
        for child in list(self.children.values()):
            self._report(f"{child.record.name} did not stop within {STOP_TIMEOUT:.0f} s; killing it", error=True)
            self._signal(child, signal.SIGKILL)

    @staticmethod
    def _signal(child: Child, signum: int) -> None:
        try:
            child.transport.signalProcess(signum)
        except ProcessExitedAlready:  # processEnded follows
            pass


def crossbar_spec(crossbar: str, cbdir: Path, env: Optional[Dict[str, str]] = None) -> ChildSpec:
    return ChildSpec([crossbar, "start", "--cbdir", str(cbdir), "--config", "config.json"], env or {})


def public_url(interface: str, port: int, tls: bool, path: str = "/ws") -> str:
    """The URL a local client opens for a node listening on `interface`."""
    host = "127.0.0.1" if interface in ("0.0.0.0", "127.0.0.1") else interface
    if ":" in host:
        host = f"[{host}]"
    scheme = ("wss" if tls else "ws") if path == "/ws" else ("https" if tls else "http")
    return f"{scheme}://{host}:{port}{path}"


@contextmanager
def claimed(cbdir: Path):
    """Hold the node directory for this process (ConfigurationError when it
    is unusable or another supervisor runs from it)."""
    prepare_node_directory(cbdir)
    claim_node_directory(cbdir)
    try:
        yield cbdir
    finally:
        if pid_in(cbdir / SUPERVISOR_PID) == os.getpid():
            (cbdir / SUPERVISOR_PID).unlink()


def run_node(plan: NodePlan, node_config: dict) -> int:
    """Check the port, write the config, run until stopped (in `claimed`)."""
    if not port_is_free(plan.interface, plan.port):
        from .errors import fail

        return fail(plan.prog, f"port {plan.port} on {plan.interface} is already in use (choose another with --port)",
                    FAILURE)
    write_atomically(plan.cbdir / "config.json", json.dumps(node_config, indent=2), mode=0o600)
    return NodeSupervisor(plan).run()
