"""Test support for the network: free loopback ports, a real router started
with `livetiming-router`, and the real JavaScript WAMP client (autobahn-js)."""
import json
import socket
import subprocess
from pathlib import Path

from processes import command

JS = Path(__file__).parent / "js"
SECRET = "test-shared-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def router_env(tmp_path, **extra) -> dict:
    env = {
        "LIVETIMING_SHARED_SECRET": SECRET,
        "LIVETIMING_LOG_DIR": str(tmp_path / "logs"),
        "LIVETIMING_STATE_DIR": str(tmp_path / "state"),
        "LIVETIMING_ANALYSIS_DIR": str(tmp_path / "analysis"),
        "LIVETIMING_RECORDINGS_DIR": str(tmp_path / "recordings"),
        "LIVETIMING_RECORDINGS_TEMP_DIR": str(tmp_path / "recordings-in-progress"),
        "LIVETIMING_DIRECTORY_LIVENESS_INTERVAL": "1",
        "LIVETIMING_DIRECTORY_PUBLISH_INTERVAL": "2",
        "LIVETIMING_ROUTER": "",
        "SENTRY_DSN": "",
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_router(processes, tmp_path, port=None, env=None, args=()):
    """A real Crossbar via `livetiming-router`; returns (process, ws url)."""
    port = port or free_port()
    process = processes([command("livetiming-router"), "--port", str(port), "--cbdir", str(tmp_path / "cbdir"),
                         *args], env=env or router_env(tmp_path))
    process.wait_for(r"Router ready", timeout=120, stream="stdout")
    return process, f"ws://127.0.0.1:{port}/ws"


def start_relay(processes, tmp_path, upstream, name="relay", key=None, listed=True, report_to=None, env=None,
                port=None):
    """A real relay via `livetiming-relay` (its own Crossbar); returns
    (process, ws url). Reports every 0.5 s with `key`, when `listed`."""
    port = port or free_port()
    url = f"ws://127.0.0.1:{port}/ws"
    relay_env = {**router_env(tmp_path), "LIVETIMING_RELAY_KEY": key or "", **(env or {})}
    args = [command("livetiming-relay"), "--port", str(port), "--cbdir", str(tmp_path / name), "--upstream", upstream,
            "--report-interval", "0.5", "-v"]
    if listed:
        args += ["--public-url", url]
    if report_to:
        args += ["--report-to", report_to]
    process = processes(args, env=relay_env)
    process.wait_for(r"Relay ready", timeout=120, stream="stdout")
    return process, url


def http_of(ws_url: str) -> str:
    """The web root (no trailing slash) of a router or relay given by its WebSocket URL."""
    return ws_url.replace("wss://", "https://").replace("ws://", "http://").rsplit("/ws", 1)[0]


def until(condition, timeout=30.0, interval=0.2, what="condition"):
    """Poll an HTTP-side condition (there is no event to await, e.g. the
    master's `/relays`) until it holds, within a deadline; its value."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def relays_listed(http_url: str) -> dict:
    """The master's `GET /relays` answer, {relay url: client count}."""
    import urllib.request

    with urllib.request.urlopen(http_url + "/relays", timeout=10) as answer:
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
        body = json.loads(answer.read())
    assert set(body) == {"args"} and len(body["args"]) == 1
    return body["args"][0]


def components_url(tmp_path) -> str:
    """The router's private socket for components (role `components`, no secret)."""
    return f"rs://unix:{tmp_path / 'cbdir' / 'components.sock'}"


def start_service(processes, url, tmp_path, *args, env=None):
    """`livetiming-service` in router mode; returns (process, uuid)."""
    service_env = {**router_env(tmp_path), "LIVETIMING_ROUTER": url, **(env or {})}
    process = processes([command("livetiming-service"), *args, "-v"], env=service_env)
    match = process.wait_for(r"Joined the router as \S+; announcing service (\w+)", timeout=60)
    return process, match.group(1)


def js_client(url, actions, authid=None, secret=None, timeout=20, authextra=None) -> dict:
    """Run the autobahn-js probe; returns {joined, authid, authrole, join_error?, results}."""
    assert (JS / "node_modules" / "autobahn").exists(), "run: npm ci --prefix tests/js"
    plan = {"url": url, "realm": "timing", "actions": actions, "timeout_ms": int(timeout * 1000)}
    if authid:
        plan.update(authid=authid, secret=secret)
    if authextra:
        plan.update(authextra=authextra)
    result = subprocess.run(["node", str(JS / "wamp_probe.js"), json.dumps(plan)],
                            capture_output=True, text=True, timeout=timeout + 30)
    assert result.returncode == 0, result.stdout + result.stderr
    # split on "\n" only: str.splitlines() also breaks at characters such as
    # U+0085 and U+2028, which LZ-String output (inside the JSON) contains
    lines = [line for line in result.stdout.split("\n") if line.startswith('{"joined"')]
    assert lines, f"no result from the probe: {result.stdout[-2000:]} {result.stderr[-2000:]}"
    return json.loads(lines[-1])
