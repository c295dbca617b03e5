"""Components that die come back while routing goes on: `livetiming-router`
restarts a killed component process, a killed component session rejoins by
itself, a killed Crossbar worker brings the node back, and a killed
`livetiming-router` leaves nothing behind, so that it restarts on the same
port at once. Real processes throughout; PIDs come from the process tree."""
import os
import signal

import pytest

from network import free_port, js_client, router_env, start_router, start_service
from processes import command_line, descendants, wait_gone
from test_security import ADMIN, admin_env, as_admin, wait_until

COMPONENTS = ("authorizer", "directory", "dvr", "catalogue", "relays")
BACK_WITHIN = 10  # seconds, as the issue asks


def host_pid(router, name: str) -> int:
    """The pid of the component host `name` below the router."""
    pids = [pid for pid in descendants(router.proc.pid) if is_host(command_line(pid), name)]
    assert len(pids) == 1, (name, pids)
    return pids[0]


def is_host(argv, name: str) -> bool:
    return "livetiming.cli.host" in argv and argv[argv.index("livetiming.cli.host") + 1] == name


def frames(tmp_path, uuid) -> int:
    directory = tmp_path / "recordings-in-progress" / uuid
    return len(list(directory.glob("0*.json"))) if directory.exists() else 0


def check_network_works(net) -> None:
    """Routing, the authorizer (a service's publish), the directory, the
    catalogue and the DVR all answer."""
    url, uuid = net["url"], net["uuid"]
    out = js_client(url, [
        {"op": "next", "topic": f"livetiming.service.{uuid}"},
        {"op": "until", "procedure": "livetiming.directory.listServices", "contains": uuid},
        {"op": "call", "procedure": "livetiming.recordings.page"},
    ])
    assert all("error" not in result for result in out["results"]), out
    before = frames(net["tmp"], uuid)
    wait_until(lambda: frames(net["tmp"], uuid) > before, what="the DVR to record another frame")


@pytest.fixture(scope="module")
def net(module_processes, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("supervision")
    router, url = start_router(module_processes, tmp_path, env=admin_env(tmp_path))
    service, uuid = start_service(module_processes, url, tmp_path, "demo", "--grid", "3600", "--cars", "20")
    net = {"router": router, "url": url, "uuid": uuid, "tmp": tmp_path, "service": service}
    check_network_works(net)
    return net


@pytest.mark.parametrize("name", COMPONENTS)
def test_a_killed_component_process_is_restarted(net, name):
    victim = host_pid(net["router"], name)
    os.kill(victim, signal.SIGKILL)
    net["router"].wait_for(rf"{name} stopped unexpectedly \(signal 9 \(SIGKILL\)\); restarting it", timeout=5)
    net["router"].wait_for(rf"component {name} is back", timeout=BACK_WITHIN)
    assert host_pid(net["router"], name) != victim
    check_network_works(net)
    assert net["service"].proc.poll() is None


def test_killed_component_sessions_come_back(net):
    url = net["url"]
    sessions = as_admin(url, [{"op": "call", "procedure": "wamp.session.list"}])[0]["result"]
    details = as_admin(url, [{"op": "call", "procedure": "wamp.session.get", "args": [sid]} for sid in sessions])
    victims = [d["result"]["session"] for d in details  # sessions that left meanwhile have no result
               if "result" in d and d["result"]["authrole"] in ("components", "authorizer")]
    assert len(victims) == len(COMPONENTS)
    killed = as_admin(url, [{"op": "call", "procedure": "wamp.session.kill", "args": [sid]} for sid in victims])
    assert all("error" not in result for result in killed), killed
    back = {net["router"].wait_for(r"component (\w+) is back", timeout=BACK_WITHIN).group(1) for _ in COMPONENTS}
    assert back == set(COMPONENTS)
    check_network_works(net)


def test_a_killed_router_worker_brings_the_node_back(net):
    workers = [pid for pid in descendants(net["router"].proc.pid) if "crossbar-worker" in " ".join(command_line(pid))]
    assert len(workers) == 1
    os.kill(workers[0], signal.SIGKILL)
    # Crossbar comes back; each component reconnects by itself, or (its
    # session ended cleanly) is restarted — in whatever order they report
    back = set()
    while back != {"Crossbar", *COMPONENTS}:
        line = net["router"].wait_for(r"(Crossbar) is back|component (\w+) (?:rejoined the router|is back)",
                                      timeout=60)
        back.add(line.group(1) or line.group(2))
    net["service"].wait_for(r"Joined the router", timeout=60)
    check_network_works(net)


def test_a_killed_livetiming_router_leaves_nothing_and_restarts_on_the_same_port(processes, tmp_path):
    port = free_port()
    router, url = start_router(processes, tmp_path, port=port)
    children = descendants(router.proc.pid)
    assert any("crossbar" in " ".join(command_line(pid)) for pid in children)
    router.signal(signal.SIGKILL)
    router.wait()
    wait_gone(children)
    again, url = start_router(processes, tmp_path, port=port)
    out = js_client(url, [{"op": "call", "procedure": "livetiming.directory.listServices"}])
    assert out["results"][0]["result"] == []
    again.signal(signal.SIGTERM)
    assert again.wait(60) == 0
    wait_gone(descendants(again.proc.pid))


def test_stop_signals_twice_are_harmless(processes, tmp_path):
    router, url = start_router(processes, tmp_path, env=router_env(tmp_path))
    children = descendants(router.proc.pid)
    router.signal(signal.SIGINT)
    router.signal(signal.SIGTERM)
    assert router.wait(60) == 0
    wait_gone(children)
    assert "Traceback" not in "\n".join(router.output)


def test_admin_credentials_are_what_lists_sessions(net):
    """The operator role exists only through LIVETIMING_AUTH_FILE; the public gets nothing."""
    public = js_client(net["url"], [{"op": "call", "procedure": "wamp.session.list"}])["results"][0]
    assert public["error"] == "wamp.error.not_authorized"
    assert ADMIN["authid"] != "services"
