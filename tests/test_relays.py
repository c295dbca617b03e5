"""Relays with real parts: a master started by `livetiming-router`, relays
started by `livetiming-relay` (each its own Crossbar), real demo services,
the real JavaScript WAMP client (autobahn-js + lz-string) as the public, and
the master's `GET /relays` over HTTP."""
import os
import signal
import time
from pathlib import Path

import pytest

from network import (
    free_port,
    http_of,
    js_client,
    relays_listed,
    router_env,
    start_relay,
    start_router,
    start_service,
    until,
)
from processes import command, command_line, descendants, wait_gone

WATCHER = str(Path(__file__).parent / "relay_watcher.py")
KEYS = ["relay-key-one-0123456789", "relay-key-two-0123456789", "relay-key-three-012345678"]
EXPIRY = 3
"""Seconds the master keeps a silent relay listed (5 minutes in production)."""


def master_env(tmp_path, **extra):
    key_file = tmp_path / "relay-keys"
    key_file.write_text("# relays we run\n" + "\n".join(KEYS) + "\n\nshort\n")
    return router_env(tmp_path, LIVETIMING_RELAY_KEY_FILE=key_file, LIVETIMING_RELAY_EXPIRY=EXPIRY, **extra)


@pytest.fixture(scope="module")
def network(module_processes, tmp_path_factory):
    """A master with a demo service holding still on the grid (so retained
    state and requestState can be compared) and one keyed relay."""
    tmp_path = tmp_path_factory.mktemp("relays")
    master, url = start_router(module_processes, tmp_path, env=master_env(tmp_path))
    service, uuid = start_service(module_processes, url, tmp_path, "demo", "--grid", "3600", "--cars", "20")
    relay, relay_url = start_relay(module_processes, tmp_path, url, name="relay-a", key=KEYS[0])
    js_client(relay_url, [{"op": "until", "procedure": "livetiming.directory.listServices", "contains": uuid}])
    return {"url": url, "http": http_of(url), "uuid": uuid, "relay": relay_url, "tmp": tmp_path,
            "processes": module_processes}


def public_checks(url: str, uuid: str) -> dict:
    """What a held-back public client does: the retained listing, state and
    analysis, requestState and requestAnalysisData; publishing and
    registering are refused."""
    out = js_client(url, [
        {"op": "retained", "topic": "livetiming.directory"},
        {"op": "retained", "topic": f"livetiming.service.{uuid}"},
        {"op": "call", "procedure": f"livetiming.service.requestState.{uuid}"},
        {"op": "call", "procedure": f"livetiming.service.requestAnalysisData.{uuid}"},
        {"op": "retained", "topic": f"livetiming.analysis/{uuid}/static"},
        {"op": "retained", "topic": f"livetiming.analysis/{uuid}/session"},
        {"op": "call", "procedure": "livetiming.directory.listServices"},
        {"op": "call", "procedure": f"livetiming.service.isAlive.{uuid}"},
        {"op": "publish", "topic": f"livetiming.service.{uuid}", "args": [{"msgClass": 4, "payload": {}}]},
        {"op": "register", "procedure": f"livetiming.service.requestState.{uuid}", "force": True},
        {"op": "call", "procedure": "livetiming.service.requestState.no-such-service"},
    ])
    assert out["joined"] and out["authrole"] == "anonymous"
    (listing, state, requested, analysis, static, session, services, alive, publish, register,
     missing) = out["results"]
    wrapper = listing["args"][0]
    assert wrapper["msgClass"] == 5 and wrapper["retain"] is True
    assert uuid in {manifest["uuid"] for manifest in wrapper["payload"]}
    assert state["args"][0]["msgClass"] == 8 and state["args"][0]["retain"] is True
    assert len(state["state"]["cars"]) == 20
    assert requested["result"] == state["state"]
    assert len(analysis["result"]["static"]) == 20
    assert static["args"][0]["payload"] == analysis["result"]["static"]
    assert session["args"][0]["msgClass"] == 7
    assert uuid in {manifest["uuid"] for manifest in services["result"]}
    assert alive["result"] is True
    assert publish["error"] == "wamp.error.not_authorized"
    assert register["error"] == "wamp.error.not_authorized"
    assert missing["error"] == "wamp.error.no_such_procedure"
    return {"state": state["state"], "analysis": analysis["result"], "listing": wrapper["payload"]}


def test_public_client_checks_pass_on_the_master_and_on_a_relay_alike(network):
    on_master = public_checks(network["url"], network["uuid"])
    on_relay = public_checks(network["relay"], network["uuid"])
    assert on_relay["state"] == on_master["state"]
    # the analysis carries the time of its last update (it moves even on the grid): compare what holds still
    assert set(on_relay["analysis"]) == set(on_master["analysis"])
    assert on_relay["analysis"]["static"] == on_master["analysis"]["static"]
    assert on_relay["analysis"]["driver"] == on_master["analysis"]["driver"]
    assert on_relay["listing"] == on_master["listing"]


def test_a_keyed_relay_is_listed_with_its_client_count(network):
    processes, relay = network["processes"], network["relay"]
    until(lambda: relays_listed(network["http"]).get(relay) == 0, what="the relay listed with 0 clients")
    watchers = [processes([command("python"), WATCHER, relay, f"livetiming.service.{network['uuid']}"])
                for _ in range(3)]
    for watcher in watchers:
        watcher.wait_for(r"event 1 \d+")
    until(lambda: relays_listed(network["http"]).get(relay) == 3, what="3 clients counted")
    for watcher in watchers[:2]:
        watcher.stop()
    until(lambda: relays_listed(network["http"]).get(relay) == 1, what="1 client counted")
    out = js_client(network["url"], [{"op": "call", "procedure": "livetiming.relays.list"}])
    assert out["results"][0]["result"] == relays_listed(network["http"])


def test_a_relay_without_a_valid_key_relays_but_is_never_listed(network):
    processes, tmp = network["processes"], network["tmp"]
    wrong, wrong_url = start_relay(processes, tmp, network["url"], name="relay-wrong", key="not-a-key-of-the-master")
    wrong.wait_for(r"not listed by the master")
    keyless, keyless_url = start_relay(processes, tmp, network["url"], name="relay-keyless")
    for url in (wrong_url, keyless_url):
        out = js_client(url, [{"op": "retained", "topic": f"livetiming.service.{network['uuid']}"}])
        assert len(out["results"][0]["state"]["cars"]) == 20
    listed = relays_listed(network["http"])
    assert network["relay"] in listed
    assert wrong_url not in listed and keyless_url not in listed


def test_anonymous_clients_cannot_report_a_relay(network):
    out = js_client(network["url"], [
        {"op": "call", "procedure": "livetiming.relays.report", "args": ["ws://evil.example/ws", 0]}])
    assert out["results"][0]["error"] == "wamp.error.not_authorized"
    assert "ws://evil.example/ws" not in relays_listed(network["http"])


def test_relays_form_a_tree(network):
    """master → relay A → relay B → client: states and calls pass both hops,
    and B reports to the master directly."""
    processes, tmp = network["processes"], network["tmp"]
    _, b_url = start_relay(processes, tmp, network["relay"], name="relay-b", key=KEYS[1], report_to=network["url"])
    on_b = public_checks(b_url, network["uuid"])
    assert on_b["state"] == public_checks(network["url"], network["uuid"])["state"]
    until(lambda: b_url in relays_listed(network["http"]), what="relay B listed")


def test_a_killed_relay_leaves_the_list_and_its_processes_are_gone(network):
    processes, tmp = network["processes"], network["tmp"]
    relay, url = start_relay(processes, tmp, network["url"], name="relay-doomed", key=KEYS[2])
    until(lambda: url in relays_listed(network["http"]), what="the relay listed")
    family = [relay.proc.pid, *descendants(relay.proc.pid)]
    relay.signal(signal.SIGKILL)
    wait_gone(family)
    until(lambda: url not in relays_listed(network["http"]), timeout=EXPIRY + 30, what="the dead relay dropped")


def test_clients_on_a_relay_get_states_again_after_the_master_restarts(processes, tmp_path):
    env = master_env(tmp_path)
    master, url = start_router(processes, tmp_path, env=env)
    port = url.rsplit(":", 1)[1].split("/")[0]
    service, uuid = start_service(processes, url, tmp_path, "demo", "--speed", "10", "--cars", "20")
    _, relay_url = start_relay(processes, tmp_path, url, key=KEYS[0])
    watcher = processes([command("python"), WATCHER, relay_url, f"livetiming.service.{uuid}"])
    watcher.wait_for(r"event 1 \d+")

    master.stop()
    restarted_ms = int(time.time() * 1000)
    start_router(processes, tmp_path, port=int(port), env=env)
    service.wait_for(r"Joined the router as \S+; announcing service")
    while int(watcher.wait_for(r"event (\d+) (\d+)").group(2)) <= restarted_ms:
        pass  # events the service published before the master stopped
    out = js_client(relay_url, [{"op": "until", "procedure": "livetiming.directory.listServices", "contains": uuid},
                                {"op": "retained", "topic": "livetiming.directory"}])
    assert "error" not in out["results"][0]
    assert [m["uuid"] for m in out["results"][1]["args"][0]["payload"]] == [uuid]
    assert not [line for line in watcher.output if "left" in line or "joined 2" in line]


def test_router_demo_with_relays_shows_the_three_tiers(processes, tmp_path):
    port = free_port_pair(3)
    router = processes([command("livetiming-router"), "--port", str(port), "--cbdir", str(tmp_path / "cb"),
                        "--demo", "20", "--relays", "2"],
                       env=router_env(tmp_path, LIVETIMING_RELAY_REPORT_INTERVAL="0.5"))
    router.wait_for(r"Watch: http://127.0.0.1:\d+/", stream="stdout", timeout=120)
    relays, uuid = set(), None
    while len(relays) < 2 or uuid is None:  # in whatever order they come
        found = router.wait_for(r"Relay ready: clients connect to (\S+)|announcing service (\w+)", timeout=120)
        relays |= {found.group(1)} - {None}
        uuid = uuid or found.group(2)
    assert relays == {f"ws://127.0.0.1:{port + 1}/ws", f"ws://127.0.0.1:{port + 2}/ws"}
    listed = until(lambda: relays_listed(f"http://127.0.0.1:{port}").keys() == relays, what="both relays listed")
    assert listed
    assert (tmp_path / "cb" / "relay-keys").stat().st_mode & 0o777 == 0o600
    for relay in relays:
        out = js_client(relay, [{"op": "retained", "topic": f"livetiming.service.{uuid}"}])
        assert out["results"][0]["state"]["cars"]
    family = [router.proc.pid, *descendants(router.proc.pid)]
    router.signal(signal.SIGINT)
    assert router.wait(timeout=60) == 0
    wait_gone(family)


def test_a_relay_restarts_its_component_and_its_crossbar_and_clients_are_served_again(network):
    processes, tmp = network["processes"], network["tmp"]
    relay, url = start_relay(processes, tmp, network["url"], name="relay-supervised")
    component = [pid for pid in descendants(relay.proc.pid) if "livetiming.cli.relay_host" in command_line(pid)]
    assert len(component) == 1
    os.kill(component[0], signal.SIGKILL)
    relay.wait_for(r"relay stopped unexpectedly \(signal 9 \(SIGKILL\)\); restarting it in 0.5 s")
    relay.wait_for(r"component relay is back")
    crossbar = [pid for pid in descendants(relay.proc.pid) if "crossbar-controller" in " ".join(command_line(pid))]
    assert len(crossbar) == 1
    os.kill(crossbar[0], signal.SIGKILL)
    relay.wait_for(r"Crossbar is back", timeout=60)
    relay.wait_for(r"component relay rejoined the router", timeout=60)
    out = js_client(url, [{"op": "retained", "topic": f"livetiming.service.{network['uuid']}"},
                          {"op": "call", "procedure": f"livetiming.service.requestState.{network['uuid']}"}])
    assert out["results"][0]["state"] == out["results"][1]["result"]
    # the relay component kept its upstream session: each event must still arrive once
    watcher = processes([command("python"), WATCHER, url, "livetiming.directory"])
    dates = [int(watcher.wait_for(r"event 1 (\d+)").group(1)) for _ in range(4)]
    assert dates == sorted(set(dates))
    family = [relay.proc.pid, *descendants(relay.proc.pid)]
    relay.signal(signal.SIGTERM)
    assert relay.wait(timeout=60) == 0
    wait_gone(family)


def free_port_pair(count: int) -> int:
    """A port whose `count - 1` successors are free too (the router's relays take them)."""
    import socket

    for _ in range(50):
        base = free_port()
        try:
            probes = []
            for offset in range(count):
                probe = socket.socket()
                probes.append(probe)
                probe.bind(("127.0.0.1", base + offset))
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
        return base
    raise AssertionError("no run of free ports")
