"""Plugins written only against the historical API (tests/plugins/*) install
into a fresh virtualenv, normally and editable, side by side, and run
unmodified with `livetiming-service`: their manifest, their cars and the
messages of their own (old-style) generators reach a standalone client."""
import json
import os
import signal
import subprocess
import time

import pytest
import websocket

from livetiming.protocol.lzstring import decompress_from_utf16
from network import js_client, router_env, start_router
from plugin_venv import FeedServer, PluginVenv, write_hooked_plugin

STARTUP = r"Standalone server for uuid:(\w+) listening on port:(\d+)"
WAIT = 30


@pytest.fixture(scope="module", params=["example-normal", "example-editable"])
def venv(request, tmp_path_factory):
    """Both plugins in one fresh venv, one installed normally and the other
    editable (the modes swap between the two params)."""
    root = tmp_path_factory.mktemp(request.param)
    venv = PluginVenv(root / "venv")
    example_editable = request.param == "example-editable"
    venv.install("example_plugin", editable=example_editable, workdir=root)
    venv.install("thirdparty_plugin", editable=not example_editable, workdir=root)
    venv.mode = {"example": "editable" if example_editable else "normal",
                 "thirdparty": "normal" if example_editable else "editable"}
    return venv


@pytest.fixture
def feed():
    server = FeedServer()
    yield server
    server.close()


def test_both_plugins_and_the_demo_are_listed(venv):
    listing = subprocess.run(venv.module("livetiming.cli.plugins"), capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0, listing.stderr
    entries = {entry["name"]: entry for entry in json.loads(listing.stdout)}
    assert {"demo", "example", "thirdparty"} <= set(entries), entries
    assert entries["example"]["description"] == "Example timing (historical API fixture)."
    assert entries["thirdparty"]["description"] == "Third Party Cup timing (historical API fixture)."
    location = subprocess.run(
        [venv.python, "-c", "import livetiming.service.plugins.example as e, livetiming.service.plugins.thirdparty "
                            "as t, livetiming.service as s; print(e.__file__); print(t.__file__); print(s.__file__)"],
        capture_output=True, text=True, timeout=60)
    example_file, thirdparty_file, service_file = location.stdout.split()
    for name, path in (("example", example_file), ("thirdparty", thirdparty_file)):
        in_venv = path.startswith(str(venv.root))
        assert in_venv == (venv.mode[name] == "normal"), (name, venv.mode, path)
    import livetiming.service as core

    assert os.path.samefile(service_file, core.__file__)  # the core's, a regular package, installed or editable


class Client:
    """A standalone client collecting frames; states are decompressed."""

    def __init__(self, port):
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}/", timeout=WAIT)
        self.manifest = None

    def next_state(self, predicate, timeout=WAIT):
        """The first state (after the manifest) for which `predicate` holds."""
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                topic, wrapper = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                break
            if wrapper["msgClass"] == 2:
                self.manifest = wrapper["payload"]
            elif wrapper["msgClass"] == 8:
                seen = json.loads(decompress_from_utf16(wrapper["payload"]))
                if predicate(seen):
                    return seen
        raise AssertionError(f"no matching state within {timeout}s; last seen: {seen}")

    def close(self):
        self.ws.close()


def example_feed(session, pit_state):
    return json.dumps({
        "session": session, "flag": "GREEN",
        "cars": [{"num": "7", "state": pit_state, "driver": "Alice", "laps": 12, "last": 101.5},
                 {"num": "22", "state": "RUN", "driver": "Bob", "laps": 12, "last": 102.25}],
    }).encode()


def messages_texts(state):
    return [message[2] for message in state["messages"]]


def test_example_plugin_runs_unmodified(venv, feed, processes, service_env, tmp_path):
    feed.content["/timing.json"] = example_feed("Practice", "RUN")
    marker = tmp_path / "stopped.txt"
    service = processes(venv.module("livetiming.cli.service", "example", "-v"),
                        env={"EXAMPLE_PLUGIN_URL": feed.url + "/timing.json",
                             "EXAMPLE_PLUGIN_SHUTDOWN_MARKER": str(marker)})
    uuid, port = service.wait_for(STARTUP, stream="stderr").groups()
    client = Client(int(port))
    try:
        state = client.next_state(lambda s: len(s["cars"]) == 2)
        manifest = client.manifest
        assert manifest["serviceClass"] == "example" and manifest["uuid"] == uuid
        assert manifest["name"] == "Example"
        assert manifest["livetimingVersion"]["plugin"] == "1.2.3"
        assert manifest["source"] == ["Example Timing Ltd", "https://timing.example/"]
        assert [c[0] for c in manifest["colSpec"]] == ["Num", "State", "Driver", "Laps", "Last"]
        assert state["cars"][0] == ["7", "RUN", "Alice", 12, [101.5, ""]]
        assert state["session"]["flagState"] == "green"

        feed.content["/timing.json"] = example_feed("Race", "PIT")
        state = client.next_state(lambda s: "Session is now Race" in messages_texts(s))
        assert "#7 (Alice) has entered the pits" in messages_texts(state)  # a default generator
        session_message = next(m for m in state["messages"] if m[2] == "Session is now Race")
        assert session_message[1:] == ["Session", "Session is now Race", "track"]
    finally:
        client.close()
    assert not marker.exists()  # the code after super().start() runs at shutdown only
    service.signal(signal.SIGTERM)
    assert service.wait() == 0
    assert marker.read_text() == f"stopped {uuid}"


def thirdparty_feed(*lines):
    return "\n".join(lines).encode()


def test_thirdparty_plugin_runs_unmodified(venv, feed, processes, service_env):
    feed.content["/session.json"] = json.dumps({"description": "Round 3 - Race"}).encode()
    feed.content["/feed.txt"] = thirdparty_feed("FLAG|Yellow", "CAR|7|RUN|Alice|3|S", "CAR|22|RUN|Bob|3|M")
    service = processes(venv.module("livetiming.cli.service", "thirdparty", "-v", "--url", feed.url,
                                    "--series", "Fixture Cup"))
    uuid, port = service.wait_for(STARTUP, stream="stderr").groups()
    service.wait_for(r"Session info published: True")  # self.http_client, then self.publish()
    client = Client(int(port))
    try:
        state = client.next_state(lambda s: len(s["cars"]) == 2)
        assert state["cars"] == [["7", "RUN", "Alice", 3, "S"], ["22", "RUN", "Bob", 3, "M"]]
        assert state["session"]["flagState"] == "yellow"  # FlagStatus.fromString("Yellow")
        manifest = client.manifest
        assert manifest["serviceClass"] == "thirdparty"
        assert manifest["name"] == "Fixture Cup"  # its own argparse over extra_args
        assert manifest["description"] == "Round 3 - Race"  # from self.http_client
        assert manifest["livetimingVersion"]["plugin"] == "2025.3.1"

        feed.content["/feed.txt"] = thirdparty_feed(
            "FLAG|green", "CAR|7|PIT|Alice|4|W", "CAR|22|RUN|Bob|4|M",
            "RC|Car #22 under investigation", "RC|Track limits at turn 4")
        state = client.next_state(lambda s: any(m[1] == "Race Control" for m in s["messages"]))
        by_text = {m[2]: m for m in state["messages"]}
        assert by_text["#7 changed tyres to W"][1:] == ["Tyres", "#7 changed tyres to W", "pit", "7"]
        assert by_text["CAR #22 UNDER INVESTIGATION"][1:] == [
            "Race Control", "CAR #22 UNDER INVESTIGATION", "raceControl", "22"]
        assert by_text["TRACK LIMITS AT TURN 4"][1:] == ["Race Control", "TRACK LIMITS AT TURN 4", "raceControl"]
        assert "#7 (Alice) has entered the pits" in by_text
        assert "Green flag - track clear" in by_text
        assert set(state["highlight"]) == {"7", "22"}
    finally:
        client.close()
    service.signal(signal.SIGTERM)
    assert service.wait() == 0


def test_an_editable_install_through_setuptools_import_hook_is_listed_and_runs(venv, processes, service_env,
                                                                                tmp_path):
    source = write_hooked_plugin(tmp_path / "hooked")
    install = subprocess.run([venv.python, "-m", "pip", "--disable-pip-version-check", "-q", "install", "--no-deps",
                              "--no-build-isolation", "-e", str(source)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    try:
        assert list(venv.site_packages.glob("__editable___livetiming_plugin_hooked*finder.py")), \
            "setuptools did not use its import hook for this layout"
        listing = subprocess.run(venv.module("livetiming.cli.plugins"), capture_output=True, text=True, timeout=60)
        names = [entry["name"] for entry in json.loads(listing.stdout)]
        assert {"demo", "example", "thirdparty", "hooked"} <= set(names), names
        service = processes(venv.module("livetiming.cli.service", "hooked", "-v"))
        port = int(service.wait_for(STARTUP, stream="stderr").group(2))
        client = Client(port)
        try:
            state = client.next_state(lambda s: s["cars"] == [["3", "RUN"]])
            assert client.manifest["serviceClass"] == "hooked" and client.manifest["name"] == "Hooked"
            assert state["session"]["flagState"] == "green"
        finally:
            client.close()
        service.signal(signal.SIGTERM)
        assert service.wait() == 0
    finally:
        subprocess.run([venv.python, "-m", "pip", "--disable-pip-version-check", "-q", "uninstall", "-y",
                        "livetiming-plugin-hooked"], capture_output=True, timeout=120)


def test_thirdparty_plugin_in_router_mode(venv, feed, processes, tmp_path):
    """Through a real router: the unmodified plugin joins, announces its uuid,
    and answers requestState with its cars and its own generators' messages."""
    _, url = start_router(processes, tmp_path)
    feed.content["/session.json"] = json.dumps({"description": "Round 4"}).encode()
    feed.content["/feed.txt"] = thirdparty_feed("FLAG|green", "CAR|7|RUN|Alice|3|S")
    service = processes(venv.module("livetiming.cli.service", "thirdparty", "-v", "--url", feed.url),
                        env={**router_env(tmp_path), "LIVETIMING_ROUTER": url})
    uuid = service.wait_for(r"Joined the router as \S+; announcing service (\w+)", timeout=60).group(1)
    procedure = f"livetiming.service.requestState.{uuid}"
    out = js_client(url, [{"op": "until", "procedure": procedure, "contains": '["7","RUN","Alice",3,"S"]'}])
    assert "error" not in out["results"][0], out
    feed.content["/feed.txt"] = thirdparty_feed("FLAG|green", "CAR|7|RUN|Alice|4|M", "RC|Car 7 warned")
    out = js_client(url, [{"op": "until", "procedure": procedure, "contains": "CAR 7 WARNED"}])
    state = out["results"][0]["result"]
    assert [m[2] for m in state["messages"][:2]] == ["#7 changed tyres to M", "CAR 7 WARNED"]
    service.signal(signal.SIGTERM)
    assert service.wait() == 0


def test_example_plugin_in_router_mode(venv, feed, processes, tmp_path):
    """Through a real router: the unmodified example plugin joins, is listed
    by the directory with its manifest, and answers requestState; the public
    gets its retained state through the real JavaScript client."""
    _, url = start_router(processes, tmp_path)
    feed.content["/timing.json"] = example_feed("Practice", "RUN")
    service = processes(venv.module("livetiming.cli.service", "example", "-v"),
                        env={**router_env(tmp_path), "LIVETIMING_ROUTER": url,
                             "EXAMPLE_PLUGIN_URL": feed.url + "/timing.json"})
    uuid = service.wait_for(r"Joined the router as \S+; announcing service (\w+)", timeout=60).group(1)
    out = js_client(url, [
        {"op": "until", "procedure": "livetiming.directory.listServices", "contains": uuid},
        {"op": "until", "procedure": f"livetiming.service.requestState.{uuid}", "contains": '"Alice"'},
        {"op": "retained", "topic": f"livetiming.service.{uuid}"},
    ])
    listing, state, retained = out["results"]
    assert "error" not in listing and "error" not in state, out
    manifest = next(m for m in listing["result"] if m["uuid"] == uuid)
    assert manifest["serviceClass"] == "example" and manifest["livetimingVersion"]["plugin"] == "1.2.3"
    assert state["result"]["cars"][0] == ["7", "RUN", "Alice", 12, [101.5, ""]]
    assert retained["state"]["cars"] == state["result"]["cars"]
    service.signal(signal.SIGTERM)
    assert service.wait() == 0
