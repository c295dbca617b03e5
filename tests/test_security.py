"""Least privilege on a real router: what the public may do, what a service
may do as itself and not as another, and who may read the secret (nobody).

A real Crossbar via `livetiming-router`, real demo services, the real
JavaScript WAMP client (autobahn-js) for the public and the attackers, and an
operator (`admin`, from LIVETIMING_AUTH_FILE) to list what is registered."""
import json
import subprocess
import sys
import time

import pytest

from livetiming.orchestration.permissions import CLIENT_PROCEDURES
from network import SECRET, js_client, router_env, start_router, start_service

ADMIN = {"authid": "operator", "secret": "operator-secret"}
NOT_AUTHORIZED = "wamp.error.not_authorized"


META_PROCEDURES = """
import json
from crossbar.router.service import RouterServiceAgent
print(json.dumps(sorted({pattern.uri() for attribute in vars(RouterServiceAgent).values()
                         for pattern in getattr(attribute, "_wampuris", [])})))
"""


def meta_procedures() -> list:
    """Every `wamp.*` procedure Crossbar's router registers, read off Crossbar
    itself — in a process of its own: importing Crossbar raises the
    interpreter's recursion limit to 100,000 (py_ecc does), which would let
    other tests' deeply nested JSON overflow the C stack."""
    found = subprocess.run([sys.executable, "-c", META_PROCEDURES], capture_output=True, text=True, timeout=60)
    uris = json.loads(found.stdout)
    assert "wamp.session.kill" in uris and len(uris) > 15
    return uris


def admin_env(tmp_path, **extra) -> dict:
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps({ADMIN["authid"]: {"secret": ADMIN["secret"], "role": "admin"}}))
    return router_env(tmp_path, LIVETIMING_AUTH_FILE=auth_file, **extra)


def as_admin(url, actions):
    out = js_client(url, actions, **ADMIN)
    assert out["joined"] and out["authrole"] == "admin", out
    return out["results"]


def registered_procedures(url) -> list:
    listing = as_admin(url, [{"op": "call", "procedure": "wamp.registration.list"}])[0]["result"]
    ids = [rid for kind in ("exact", "prefix", "wildcard") for rid in listing.get(kind, [])]
    details = as_admin(url, [{"op": "call", "procedure": "wamp.registration.get", "args": [rid]} for rid in ids])
    return sorted(d["result"]["uri"] for d in details)


def wait_until(condition, timeout=30, what="condition"):
    """Poll a condition (a log file) with a deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def expected_public(uri: str) -> bool:
    return any(uri == pattern or (match == "prefix" and uri.startswith(pattern))
               for pattern, match in CLIENT_PROCEDURES)


@pytest.fixture(scope="module")
def network(module_processes, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("security")
    router, url = start_router(module_processes, tmp_path, env=admin_env(tmp_path))
    victim, uuid = start_service(module_processes, url, tmp_path, "demo", "--grid", "3600", "--cars", "20")
    js_client(url, [{"op": "until", "procedure": "livetiming.directory.listServices", "contains": uuid}])
    return {"url": url, "uuid": uuid, "tmp": tmp_path}


def test_anonymous_may_call_exactly_the_client_procedures(network):
    uuid = network["uuid"]
    registered = registered_procedures(network["url"])
    for procedure in (f"livetiming.service.isAlive.{uuid}", f"livetiming.service.requestState.{uuid}",
                      "livetiming.directory.listServices", "livetiming.recordings.page", "livetiming.authorize"):
        assert procedure in registered
    candidates = sorted(set(registered) | set(meta_procedures()) | {"livetiming.authenticate"})
    out = js_client(network["url"], [{"op": "call", "procedure": uri, "args": []} for uri in candidates])
    assert out["joined"] and out["authrole"] == "anonymous"
    allowed = {uri for uri, result in zip(candidates, out["results"])
               if result.get("error") not in (NOT_AUTHORIZED, "wamp.error.no_such_procedure")}
    assert allowed == {uri for uri in candidates if expected_public(uri)}
    assert {f"livetiming.service.requestState.{uuid}", f"livetiming.service.requestAnalysisData.{uuid}",
            "livetiming.directory.listServices", "livetiming.recordings.page"} <= allowed


def test_anonymous_may_subscribe_to_livetiming_topics_only_and_never_publish_or_register(network):
    uuid = network["uuid"]
    out = js_client(network["url"], [
        {"op": "retained", "topic": f"livetiming.service.{uuid}"},
        {"op": "retained", "topic": "wamp.session.on_join"},
        {"op": "retained", "topic": "", "match": "prefix"},
        {"op": "publish", "topic": "livetiming.control", "args": [{"msgClass": 3, "payload": uuid}]},
        {"op": "publish", "topic": f"livetiming.service.{uuid}", "args": [{}]},
        {"op": "publish", "topic": "wamp.session.on_leave", "args": [1]},
        {"op": "register", "procedure": f"livetiming.service.requestState.{uuid}", "force": True},
        {"op": "register", "procedure": "livetiming.authenticate"},
    ], timeout=10)
    state, *denied = out["results"]
    assert state["args"][0]["msgClass"] == 8
    # wamp.* is reserved: Crossbar refuses it as an invalid URI before asking the role
    assert [r.get("error") for r in denied] == [NOT_AUTHORIZED] * 4 + ["wamp.error.invalid_uri"] + [NOT_AUTHORIZED] * 2


def test_the_secret_cannot_be_read_and_a_service_cannot_act_as_another(network):
    url, uuid = network["url"], network["uuid"]
    stolen = js_client(url, [{"op": "call", "procedure": "livetiming.authenticate",
                              "args": ["timing", "services", {}]}])["results"][0]
    assert "error" in stolen and SECRET not in json.dumps(stolen)

    # A session with the secret, bound to its own uuid, tries to take over the victim.
    intruder = {"uuid": "intruder", "name": "Intruder", "serviceClass": "x", "colSpec": []}
    out = js_client(url, [
        {"op": "register", "procedure": f"livetiming.service.isAlive.{uuid}", "force": True, "answer": False},
        {"op": "register", "procedure": f"livetiming.service.requestState.{uuid}", "force": True, "answer": "fake"},
        {"op": "publish", "topic": f"livetiming.service.{uuid}", "args": [{"msgClass": 4, "payload": {}}]},
        {"op": "publish", "topic": f"livetiming.analysis/{uuid}/static", "args": [{"msgClass": 7, "payload": {}}]},
        {"op": "publish", "topic": "livetiming.directory", "args": [{"msgClass": 5, "payload": []}]},
        {"op": "publish", "topic": "livetiming.control", "args": [{"msgClass": 3, "payload": uuid}]},
        {"op": "publish", "topic": "livetiming.control",
         "args": [{"msgClass": 2, "payload": {"uuid": uuid, "name": "Hijacked", "serviceClass": "demo"}}]},
        # its own registration, published after the forged ones: once it is
        # listed, the directory has seen (and ignored) the forged ones
        {"op": "publish", "topic": "livetiming.control", "args": [{"msgClass": 2, "payload": intruder}]},
        {"op": "until", "procedure": "livetiming.directory.listServices", "contains": "Intruder"},
        {"op": "call", "procedure": f"livetiming.service.requestState.{uuid}"},
    ], authid="services", secret=SECRET, authextra={"uuid": "intruder"})
    assert out["authid"] == "services@intruder"
    *denied, deregistration, forged, own, listing, state = out["results"]
    assert [r.get("error") for r in denied] == [NOT_AUTHORIZED] * 5
    assert deregistration.get("ok") and forged.get("ok") and own.get("ok")
    manifests = {m["uuid"]: m for m in listing["result"]}
    assert manifests[uuid]["name"] != "Hijacked" and manifests[uuid]["serviceClass"] == "demo"
    assert len(state["result"]["cars"]) == 20  # still the victim's own procedure
    dvr_log = network["tmp"] / "logs" / "livetiming-dvr.log"
    wait_until(lambda: dvr_log.exists() and f"Ignoring a manifest for {uuid}" in dvr_log.read_text(),
               what="the DVR to ignore the forged manifest")
    manifest = json.loads((network["tmp"] / "recordings-in-progress" / uuid / "manifest.json").read_text())
    assert manifest["name"] != "Hijacked"


def test_a_forwarded_identity_is_not_believed(network):
    """WAMP lets a publisher claim to forward for another session; the
    directory believes only the session that actually published."""
    url, uuid = network["url"], network["uuid"]
    out = js_client(url, [
        {"op": "publish", "topic": "livetiming.control", "args": [{"msgClass": 3, "payload": uuid}],
         "options": {"forward_for": [{"session": 1, "authid": f"services@{uuid}", "authrole": "services"}]}},
        {"op": "publish", "topic": "livetiming.control",
         "args": [{"msgClass": 2, "payload": {"uuid": "forwarder", "name": "Forwarder"}}]},
        {"op": "until", "procedure": "livetiming.directory.listServices", "contains": "Forwarder"},
    ], authid="services", secret=SECRET, authextra={"uuid": "forwarder"})
    assert all("error" not in r for r in out["results"]), out
    assert uuid in json.dumps(out["results"][-1]["result"])


def test_node_directory_and_sockets_are_private(network):
    cbdir = network["tmp"] / "cbdir"
    assert cbdir.stat().st_mode & 0o777 == 0o700
    for name in ("router.sock", "components.sock", "guard.sock"):
        assert (cbdir / name).stat().st_mode & 0o777 == 0o600, name


def test_calls_with_huge_integers_are_answered(network):
    """Services and components speak CBOR or JSON to the router, never
    msgpack, which cannot carry 2**64: Crossbar could not forward such a call
    and would never answer the caller."""
    uuid = network["uuid"]
    out = js_client(network["url"], [
        {"op": "call", "procedure": f"livetiming.service.requestState.{uuid}", "args": [2**64]},
        {"op": "call", "procedure": "livetiming.directory.listServices", "args": [2**64]},
    ], timeout=10)
    state, listing = out["results"]
    assert len(state["result"]["cars"]) == 20
    assert uuid in json.dumps(listing["result"])
