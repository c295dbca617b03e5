"""Pure parts of the router: URL parsing, the authenticator's principals,
the directory's bookkeeping."""
import json

import pytest
from autobahn.wamp.exception import ApplicationError

from livetiming.orchestration.authenticator import AuthConfigurationError, authenticate, load_principals
from livetiming.orchestration.directory import NotOwnerError, ServiceDirectory
from livetiming.protocol import MalformedMessageError
from livetiming.service.router import RouterURLError, transport_for


@pytest.mark.parametrize("url, kind, endpoint", [
    ("ws://127.0.0.1:5080/ws", "websocket", None),
    ("wss://timing.example/ws", "websocket", None),
    ("rs://127.0.0.1:8081", "rawsocket", {"type": "tcp", "host": "127.0.0.1", "port": 8081}),
    ("rs://unix:/run/lt/router.sock", "rawsocket", {"type": "unix", "path": "/run/lt/router.sock"}),
    ("rs:///run/lt/router.sock", "rawsocket", {"type": "unix", "path": "/run/lt/router.sock"}),
])
def test_router_urls(url, kind, endpoint):
    transport = transport_for(url)
    assert transport["type"] == kind and transport["max_retries"] == -1
    if endpoint:
        assert transport["endpoint"] == endpoint


@pytest.mark.parametrize("url", ["http://x/ws", "ws:///ws", "rs://host", "rs://", "localhost:5080"])
def test_bad_router_urls(url):
    with pytest.raises(RouterURLError):
        transport_for(url)


def test_principals_from_secret_and_auth_file(tmp_path):
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps({"relay": {"secret": "r", "role": "components", "salt": "s", "iterations": 10,
                                               "keylen": 32, "ignored": 1}}))
    principals = load_principals("top", str(auth_file))
    assert authenticate(principals, "timing", "services", {"authextra": {"uuid": "abc"}}) == {
        "secret": "top", "role": "services", "authid": "services@abc", "extra": {"uuid": "abc"}}
    assert authenticate(principals, "timing", "relay") == {"secret": "r", "role": "components", "salt": "s",
                                                           "iterations": 10, "keylen": 32}
    with pytest.raises(ApplicationError) as error:
        authenticate(principals, "timing", "nobody")
    assert error.value.error == "livetiming.auth.no_such_id"


@pytest.mark.parametrize("content", ["{", "[]", '{"x": {"role": "services"}}', '{"x": "secret"}',
                                     '{"x": {"secret": "s", "role": "anonymous"}}', "[" * 100000])
def test_bad_auth_files_are_configuration_errors(tmp_path, content):
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(content)
    with pytest.raises(AuthConfigurationError):
        load_principals("top", str(auth_file))


def test_no_secret_no_authenticator():
    with pytest.raises(AuthConfigurationError, match="LIVETIMING_SHARED_SECRET"):
        load_principals("", None)
    with pytest.raises(AuthConfigurationError):
        load_principals("top", "/nonexistent/auth.json")


def registration(uuid, **extra):
    return {"msgClass": 2, "date": 1, "payload": {"uuid": uuid, "name": uuid, **extra}}


def test_directory_registers_updates_and_removes():
    directory = ServiceDirectory()
    assert directory.handle(registration("a"), "a")
    assert not directory.handle(registration("a"), "a")  # unchanged: no re-publish
    assert directory.handle(registration("b", hidden=True), "b")
    assert directory.handle(registration("a", description="new session"), "a")
    assert [m["uuid"] for m in directory.listing()] == ["a"]
    assert [m["uuid"] for m in directory.listing(include_hidden=True)] == ["a", "b"]
    assert directory.handle({"msgClass": 3, "payload": "b"}, "b")
    assert not directory.handle({"msgClass": 3, "payload": {"uuid": "zzz"}}, "zzz")
    assert not directory.handle({"msgClass": 5, "payload": []}, None)  # other classes are not for the directory
    assert directory.uuids() == ["a"]


@pytest.mark.parametrize("wrapper, sender", [
    (registration("a", name="Fake"), "b"), (registration("a", name="Fake"), None),
    ({"msgClass": 3, "payload": "a"}, "b"), ({"msgClass": 3, "payload": {"uuid": "a"}}, None),
])
def test_directory_accepts_a_uuid_only_from_its_own_session(wrapper, sender):
    directory = ServiceDirectory()
    directory.handle(registration("a"), "a")
    with pytest.raises(NotOwnerError):
        directory.handle(wrapper, sender)
    assert directory.listing() == [registration("a")["payload"]]


@pytest.mark.parametrize("wrapper", [
    None, "x", {"msgClass": 2}, {"msgClass": 2, "payload": "m"}, {"msgClass": 2, "payload": {"name": "n"}},
    {"msgClass": 2, "payload": {"uuid": "has.dot"}}, {"msgClass": 2, "payload": {"uuid": 7}},
    {"msgClass": 3, "payload": None}, {"msgClass": 77},
    {"msgClass": 2, "payload": {"uuid": "a", "name": "x" * 5000}},
    {"msgClass": 2, "payload": {"uuid": "a", "colSpec": "x"}},
    {"msgClass": 2, "payload": {"uuid": "a", "hidden": "yes"}}, {"msgClass": 2, "payload": {"uuid": "a" * 65}},
])
def test_directory_rejects_malformed_messages_and_keeps_its_listing(wrapper):
    directory = ServiceDirectory()
    directory.handle(registration("a"), "a")
    with pytest.raises(MalformedMessageError):
        directory.handle(wrapper, "a")
    assert [m["uuid"] for m in directory.listing()] == ["a"]




def test_directory_liveness_removes_a_silent_service_within_one_check():
    """The directory's liveness check on a simulated clock: a service whose
    isAlive fails is removed by the first check, one that never answers by
    the check's timeout; a live one stays."""
    from types import SimpleNamespace

    from twisted.internet import defer, task

    from livetiming.orchestration.directory import LIVENESS_TIMEOUT, DirectorySession

    clock = task.Clock()
    answers = {"live": defer.succeed(True), "dead": defer.fail(RuntimeError("no callee")),
               "hung": defer.Deferred()}
    published = []
    directory = ServiceDirectory()
    for uuid in answers:
        directory.handle(registration(uuid), uuid)
    session = SimpleNamespace(directory=directory, reactor=clock, log=SimpleNamespace(info=lambda *a, **k: None),
                              call=lambda procedure: answers[procedure.rsplit(".", 1)[1]],
                              publish_listing=lambda: published.append(directory.uuids()))
    done = DirectorySession.check_liveness(session)
    assert not done.called and directory.uuids() == ["live", "dead", "hung"]
    clock.advance(LIVENESS_TIMEOUT - 0.01)
    assert not done.called
    clock.advance(0.01)
    assert done.called and directory.uuids() == ["live"] and published == [["live"]]
