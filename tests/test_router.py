"""The master router with real parts: Crossbar started by `livetiming-router`
with the project's config, real `livetiming-service demo` processes, and the
real JavaScript WAMP client (autobahn-js + lz-string) as the public."""
import json
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from livetiming.orchestration.router_config import build_config
from network import SECRET, components_url, free_port, js_client, router_env, start_router, start_service
from processes import command, command_line, descendants, wait_gone

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def network(module_processes, tmp_path_factory):
    """One router with a visible and a hidden demo service (on the grid: their
    state holds still, so retained state and requestState can be compared)."""
    tmp_path = tmp_path_factory.mktemp("network")
    router, url = start_router(module_processes, tmp_path)
    visible, uuid = start_service(module_processes, url, tmp_path, "demo", "--grid", "3600", "--cars", "20")
    hidden, hidden_uuid = start_service(module_processes, url, tmp_path, "demo", "-H", "--grid", "3600")
    return {"url": url, "uuid": uuid, "hidden_uuid": hidden_uuid, "tmp": tmp_path,
            "processes": module_processes}


def test_anonymous_client_gets_retained_listing_and_state(network):
    uuid = network["uuid"]
    out = js_client(network["url"], [
        {"op": "until", "procedure": "livetiming.directory.listServices", "contains": uuid},
        {"op": "retained", "topic": "livetiming.directory"},
        {"op": "retained", "topic": f"livetiming.service.{uuid}"},
        {"op": "call", "procedure": f"livetiming.service.requestState.{uuid}"},
        {"op": "call", "procedure": f"livetiming.service.requestAnalysisData.{uuid}"},
        {"op": "retained", "topic": f"livetiming.analysis/{uuid}/static"},
    ])
    assert out["joined"] and out["authrole"] == "anonymous"
    found, listing, state, requested, analysis, static = out["results"]
    assert "error" not in found
    wrapper = listing["args"][0]
    assert wrapper["msgClass"] == 5 and wrapper["retain"] is True
    manifests = {m["uuid"]: m for m in wrapper["payload"]}
    assert manifests[uuid]["serviceClass"] == "demo" and manifests[uuid]["hidden"] is False
    assert network["hidden_uuid"] not in manifests
    assert state["args"][0]["msgClass"] == 8 and state["args"][0]["retain"] is True
    assert len(state["state"]["cars"]) == 20
    assert requested["result"] == state["state"]
    assert set(analysis["result"]) == {"static", "driver", "messages", "session", "lap", "stint", "car_messages"}
    assert len(analysis["result"]["static"]) == 20
    assert static["args"][0]["msgClass"] == 7 and static["args"][0]["payload"] == analysis["result"]["static"]


def test_hidden_service_is_listed_only_with_include_hidden(network):
    hidden = network["hidden_uuid"]
    out = js_client(network["url"], [
        {"op": "until", "procedure": "livetiming.directory.listServices", "kwargs": {"includeHidden": True},
         "contains": hidden},
        {"op": "call", "procedure": "livetiming.directory.listServices"},
    ])
    with_hidden, without = out["results"]
    assert hidden in json.dumps(with_hidden["result"])
    assert hidden not in json.dumps(without["result"]) and network["uuid"] in json.dumps(without["result"])


def test_anonymous_cannot_publish_or_register(network):
    out = js_client(network["url"], [
        {"op": "publish", "topic": "livetiming.control", "args": [{"msgClass": 2, "payload": {"uuid": "x"}}]},
        {"op": "publish", "topic": f"livetiming.service.{network['uuid']}", "args": [{}]},
        {"op": "register", "procedure": "livetiming.directory.listServices2"},
    ])
    assert [r.get("error") for r in out["results"]] == ["wamp.error.not_authorized"] * 3


def test_components_need_the_right_credentials(network):
    ok = js_client(network["url"], [], authid="services", secret=SECRET, authextra={"uuid": "probe"})
    assert ok["joined"] and ok["authrole"] == "services" and ok["authid"] == "services@probe"
    no_uuid = js_client(network["url"], [], authid="services", secret=SECRET)
    assert not no_uuid["joined"] and "livetiming.auth.no_uuid" in json.dumps(no_uuid)
    bad_uuid = js_client(network["url"], [], authid="services", secret=SECRET, authextra={"uuid": "a.b"})
    assert not bad_uuid["joined"] and "livetiming.auth.no_uuid" in json.dumps(bad_uuid)
    wrong = js_client(network["url"], [], authid="services", secret="not-the-secret")
    assert not wrong["joined"] and wrong["join_error"]
    unknown = js_client(network["url"], [], authid="nobody", secret=SECRET)
    assert not unknown["joined"] and "no_such_id" in json.dumps(unknown)


def test_malformed_control_messages_do_not_break_the_directory(network):
    junk = [[], [None], ["text"], [42], [{"msgClass": 2}], [{"msgClass": 2, "payload": {"name": "no uuid"}}],
            [{"msgClass": 2, "payload": {"uuid": "bad uuid with spaces"}}], [{"msgClass": 2, "payload": "x"}],
            [{"msgClass": 99, "payload": {}}], [{"msgClass": "2", "payload": {"uuid": "strclass"}}],
            [{"msgClass": 3, "payload": None}], [{"msgClass": 2, "payload": {"uuid": ["list"]}}],
            [{"msgClass": 2, "payload": {"uuid": "a"}}, "extra"], [{"msgClass": 1, "date": "x"}]]
    actions = [{"op": "publish", "topic": "livetiming.control", "args": args} for args in junk]
    actions.append({"op": "call", "procedure": "livetiming.directory.listServices",
                    "kwargs": {"includeHidden": True}})
    out = js_client(network["url"], actions, authid="services", secret=SECRET, authextra={"uuid": "junk"})
    assert all(r.get("ok") for r in out["results"][:-1])
    listing = out["results"][-1]["result"]
    assert sorted(m["uuid"] for m in listing) == sorted([network["uuid"], network["hidden_uuid"]])


def test_killed_service_leaves_the_directory_within_two_liveness_periods(network):
    process, uuid = start_service(network["processes"], network["url"], network["tmp"], "demo", "--grid", "3600")
    js_client(network["url"], [{"op": "until", "procedure": "livetiming.directory.listServices", "contains": uuid}])
    process.signal(signal.SIGKILL)
    process.wait()
    out = js_client(network["url"], [{"op": "until", "procedure": "livetiming.directory.listServices",
                                       "contains": uuid, "absent": True, "within_ms": 10000}])
    result = out["results"][0]
    assert "error" not in result, result  # gone within the 10 s bound (timing: test_directory_liveness_*)


def test_router_restart_service_rejoins_without_restart(processes, tmp_path):
    port = free_port()
    router, url = start_router(processes, tmp_path, port=port)
    service, uuid = start_service(processes, url, tmp_path, "demo", "--grid", "3600")
    router.signal(signal.SIGTERM)
    assert router.wait(60) == 0
    router, url = start_router(processes, tmp_path, port=port)
    service.wait_for(r"Joined the router", timeout=60)
    out = js_client(url, [
        {"op": "until", "procedure": "livetiming.directory.listServices", "contains": uuid},
        {"op": "retained", "topic": f"livetiming.service.{uuid}"},
    ])
    assert "error" not in out["results"][0]
    assert len(out["results"][1]["state"]["cars"]) == 30
    assert service.proc.poll() is None


def test_router_refuses_to_start_without_a_secret(tmp_path):
    env = router_env(tmp_path, LIVETIMING_SHARED_SECRET="")
    result = subprocess.run([command("livetiming-router"), "--port", str(free_port()), "--cbdir", str(tmp_path)],
                            capture_output=True, text=True, timeout=60, env={**__import__("os").environ, **env},
                            cwd=tmp_path)
    assert result.returncode == 2
    assert "LIVETIMING_SHARED_SECRET is not set" in result.stderr and "Traceback" not in result.stderr


def test_router_reports_a_taken_port(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([command("livetiming-router"), "--port", str(port), "--cbdir", str(tmp_path)],
                                capture_output=True, text=True, timeout=60,
                                env={**__import__("os").environ, **router_env(tmp_path)})
    assert result.returncode == 1
    assert f"port {port}" in result.stderr and "already in use" in result.stderr


@pytest.mark.parametrize("name, production", [("config.json", False), ("config.production.json", True)])
def test_committed_crossbar_configs_are_the_builders_output(name, production):
    committed = json.loads((ROOT / "crossbar" / name).read_text())
    assert committed == build_config(production=production)


def test_service_with_a_bad_router_url_is_a_usage_error(tmp_path):
    env = {**__import__("os").environ, **router_env(tmp_path), "LIVETIMING_ROUTER": "http://nope"}
    result = subprocess.run([command("livetiming-service"), "demo"], capture_output=True, text=True,
                            timeout=60, env=env)
    assert result.returncode == 2 and "must start with ws://, wss:// or rs://" in result.stderr


def test_router_demo_runs_the_demo_race_in_the_network(processes, tmp_path):
    port = free_port()
    router = processes([command("livetiming-router"), "--port", str(port), "--cbdir", str(tmp_path / "cb"),
                        "--demo", "20"], env=router_env(tmp_path))
    router.wait_for(r"Router ready: services and clients connect to ws://127.0.0.1:\d+/ws", stream="stdout",
                    timeout=120)
    uuid = router.wait_for(r"Joined the router as services@\w+; announcing service (\w+)", timeout=60).group(1)
    out = js_client(f"ws://127.0.0.1:{port}/ws",
                    [{"op": "until", "procedure": "livetiming.directory.listServices", "contains": uuid}])
    assert "error" not in out["results"][0]
    children = descendants(router.proc.pid)
    assert any("demo" in " ".join(command_line(pid)) for pid in children)
    router.signal(signal.SIGTERM)
    assert router.wait(60) == 0
    wait_gone(children)


def test_service_over_rawsocket_unix_and_stale_registrations_are_taken_over(network):
    socket_path = network["tmp"] / "cbdir" / "router.sock"
    url = f"rs://unix:{socket_path}"
    first, uuid = start_service(network["processes"], url, network["tmp"], "demo", "--uuid", "sameuuid",
                                "--grid", "3600", "--cars", "25")
    # A second service with the same uuid (e.g. a restart while the old session lingers) takes over.
    second, uuid2 = start_service(network["processes"], url, network["tmp"], "demo", "--uuid", "sameuuid",
                                  "--grid", "3600", "--cars", "21")
    assert uuid == uuid2 == "sameuuid"
    out = js_client(network["url"], [{"op": "call", "procedure": "livetiming.service.requestState.sameuuid"}])
    assert len(out["results"][0]["result"]["cars"]) == 21
    second.stop()
    first.stop()


def test_standalone_directory_reinitialises_services(network):
    """A directory that (re)starts asks services to re-announce themselves (INITIALISE_DIRECTORY)."""
    env = {**router_env(network["tmp"]), "LIVETIMING_ROUTER": components_url(network["tmp"])}
    directory = network["processes"]([command("livetiming-directory"), "-v"], env=env)
    directory.wait_for(r"Directory ready", timeout=60)
    out = js_client(network["url"], [
        {"op": "until", "procedure": "livetiming.directory.listServices", "kwargs": {"includeHidden": True},
         "contains": network["hidden_uuid"]},
    ])
    result = out["results"][0]
    assert "error" not in result
    assert network["uuid"] in json.dumps(result["result"])
    directory.stop()


def test_router_refuses_a_node_directory_that_is_a_file(tmp_path):
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("x")
    result = subprocess.run([command("livetiming-router"), "--port", str(free_port()), "--cbdir", str(not_a_directory)],
                            capture_output=True, text=True, timeout=60,
                            env={**__import__("os").environ, **router_env(tmp_path)})
    assert result.returncode == 2 and "is not a directory" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args, env, text", [
    (["--port", "70000"], {}, "between 1 and 65535"),
    (["--port", "abc"], {}, "not a port number"),
    (["--print-config"], {"LIVETIMING_ROUTER_PORT": "abc"}, "LIVETIMING_ROUTER_PORT"),
    (["--print-config"], {"LIVETIMING_DIRECTORY_LIVENESS_INTERVAL": "ten"}, "not a number of seconds"),
    (["--interface", "nope.invalid"], {}, "not an address of this machine"),
    (["--port", "5999"], {"LIVETIMING_DIRECTORY_LIVENESS_INTERVAL": "0"}, "at least 0.1"),
    (["--port", "5999"], {"LIVETIMING_DIRECTORY_LIVENESS_INTERVAL": "-5"}, "at least 0.1"),
    (["--port", "5999"], {"LIVETIMING_DIRECTORY_PUBLISH_INTERVAL": "nan"}, "at least 0.1"),
])
def test_router_usage_errors(tmp_path, args, env, text):
    result = subprocess.run([command("livetiming-router"), *args, "--cbdir", str(tmp_path)], capture_output=True,
                            text=True, timeout=60, env={**__import__("os").environ, **router_env(tmp_path, **env)})
    assert result.returncode == 2 and text in result.stderr and "Traceback" not in result.stderr
