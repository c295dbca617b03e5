"""Relay rules without a network: the relay book (reports, expiry, the list's
shape, the least-loaded pick), relay keys and their login, the `/relays`
resource, the relay component's pure parts, the relay node's config and the
command lines' errors."""
import json
import os
import random
import subprocess
from pathlib import Path

import pytest
from autobahn.wamp.exception import ApplicationError
from twisted.web.test.requesthelper import DummyRequest

from livetiming.orchestration.authenticator import NO_SUCH_ID, authenticate, load_principals
from livetiming.orchestration.permissions import RELAYS, relay_realm_roles
from livetiming.orchestration.relay import car_numbers, retained_topics, should_retain
from livetiming.orchestration.relay_book import (
    MAX_RELAYS,
    RelayBook,
    ReportError,
    check_report,
    http_answer,
    pick_least_loaded,
)
from livetiming.orchestration.relay_keys import RelayKeyError, load_keys, parse_keys, relay_authid
from livetiming.orchestration.relays_web import RelaysResource
from livetiming.orchestration.router_config import build_relay_config
from network import router_env
from processes import command

ROOT = Path(__file__).parent.parent
KEY = "a-relay-key-of-24-chars!"


# --- the relay book ---------------------------------------------------------------

def test_a_report_lists_the_relay_until_it_falls_silent_for_the_expiry():
    book = RelayBook(expiry=300)
    book.report("ws://a.example/ws", 10, now=1000)
    book.report("wss://b.example:8443/ws", 3, now=1100)
    assert book.listing(now=1300) == {"ws://a.example/ws": 10, "wss://b.example:8443/ws": 3}
    assert book.listing(now=1301) == {"wss://b.example:8443/ws": 3}
    assert book.expire(now=1301) is True
    assert list(book.entries) == ["wss://b.example:8443/ws"]
    assert book.expire(now=1302) is False
    book.report("wss://b.example:8443/ws", 4, now=1350)
    assert book.listing(now=1600) == {"wss://b.example:8443/ws": 4}


@pytest.mark.parametrize("url, clients", [
    ("http://a.example/", 1), ("ws://", 1), ("ws://a b/ws", 1), ("ws://a/" + "x" * 600, 1), (None, 1), (5, 1),
    ("ws://a/ws", -1), ("ws://a/ws", 1.5), ("ws://a/ws", True), ("ws://a/ws", "3"), ("ws://a/ws", 10 ** 9),
])
def test_malformed_reports_are_refused(url, clients):
    with pytest.raises(ReportError):
        check_report(url, clients)
    book = RelayBook()
    with pytest.raises(ReportError):
        book.report(url, clients, now=0)
    assert book.entries == {}


def test_the_book_is_bounded_and_survives_its_file():
    book = RelayBook()
    for n in range(MAX_RELAYS + 5):
        book.report(f"ws://relay{n}.example/ws", n % 7, now=n)
    assert len(book.entries) == MAX_RELAYS and "ws://relay0.example/ws" not in book.entries
    again = RelayBook.from_json(json.loads(json.dumps(book.to_json())))
    assert again.listing(now=MAX_RELAYS) == book.listing(now=MAX_RELAYS)
    garbage = {"expiry": "x", "relays": {"ws://ok/ws": {"clients": 1, "seen": 5}, "bad": {"clients": 1, "seen": 5},
                                         "ws://no-seen/ws": {"clients": 1}, "ws://x/ws": []}}
    assert RelayBook.from_json(garbage).listing(now=6) == {"ws://ok/ws": 1}
    assert RelayBook.from_json([1, 2]).entries == {}


def test_the_answer_has_the_shape_existing_clients_parse():
    assert http_answer({"ws://a/ws": 2}) == {"args": [{"ws://a/ws": 2}]}
    assert http_answer({}) == {"args": [{}]}


def test_clients_pick_the_least_loaded_relay_ties_at_random_else_the_master():
    assert pick_least_loaded({}, "ws://master/ws") == "ws://master/ws"
    assert pick_least_loaded({"ws://a/ws": 5, "ws://b/ws": 2, "ws://c/ws": 9}, "m") == "ws://b/ws"
    tied = {"ws://a/ws": 1, "ws://b/ws": 1, "ws://c/ws": 4}
    picks = {pick_least_loaded(tied, "m", random.Random(seed)) for seed in range(40)}
    assert picks == {"ws://a/ws", "ws://b/ws"}


# --- keys ---------------------------------------------------------------------------

def test_keys_file_lines_and_authids(tmp_path):
    keys = parse_keys(["# comment", "", f"  {KEY}  ", "short", "another-key-with-enough-chars"])
    assert sorted(keys.values()) == sorted([KEY, "another-key-with-enough-chars"])
    authid = relay_authid(KEY)
    assert authid.startswith("relay-") and KEY not in authid and keys[authid] == KEY
    with pytest.raises(RelayKeyError):
        relay_authid("short")
    with pytest.raises(RelayKeyError):
        load_keys(tmp_path / "missing")


def test_a_relay_logs_in_only_with_a_listed_key(tmp_path):
    key_file = tmp_path / "keys"
    key_file.write_text(KEY + "\n")
    principals = load_principals("secret")
    principal = authenticate(principals, "timing", relay_authid(KEY), {}, str(key_file))
    assert principal == {"secret": KEY, "role": RELAYS}
    for authid, file in ((relay_authid("some-other-key-0123456789"), str(key_file)), (relay_authid(KEY), None),
                         (relay_authid(KEY), str(tmp_path / "missing"))):
        with pytest.raises(ApplicationError) as refused:
            authenticate(principals, "timing", authid, {}, file)
        assert refused.value.error == NO_SUCH_ID
    key_file.write_text("")  # revoked: read again at each login
    with pytest.raises(ApplicationError):
        authenticate(principals, "timing", relay_authid(KEY), {}, str(key_file))


# --- GET /relays ----------------------------------------------------------------------

def render(resource) -> tuple:
    request = DummyRequest([b""])
    body = resource.render_GET(request)
    return json.loads(body), request


def test_the_relays_resource_serves_the_monitors_file_with_the_expiry_applied(tmp_path):
    path = tmp_path / "relays.json"
    now = {"t": 1000.0}
    resource = RelaysResource({"file": str(path)}, clock=lambda: now["t"])
    assert render(resource)[0] == {"args": [{}]}
    book = RelayBook(expiry=60)
    book.report("ws://a/ws", 4, now=990)
    book.report("ws://b/ws", 1, now=950)
    path.write_text(json.dumps(book.to_json()))
    body, request = render(resource)
    assert body == {"args": [{"ws://a/ws": 4, "ws://b/ws": 1}]}
    assert request.responseHeaders.getRawHeaders(b"access-control-allow-origin") == [b"*"]
    assert request.responseHeaders.getRawHeaders(b"content-type")[0].startswith(b"application/json")
    now["t"] = 1011  # b silent for 61 s, even if the monitor is not there to drop it
    assert render(resource)[0] == {"args": [{"ws://a/ws": 4}]}
    path.write_text("[" * 100000)
    os.utime(path, ns=(1, 1))
    assert render(resource)[0] == {"args": [{}]}


# --- the relay component's rules ----------------------------------------------------

def test_a_relay_republishes_retained_what_was_retained_or_says_so():
    assert should_retain(({"msgClass": 8, "retain": True},), retained_upstream=False)
    assert should_retain(({"msgClass": 8},), retained_upstream=True)
    assert not should_retain(({"msgClass": 7},), retained_upstream=False)
    assert not should_retain(({"msgClass": 7, "retain": "yes"},), retained_upstream=False)
    assert not should_retain((), retained_upstream=False)
    assert not should_retain(("text",), retained_upstream=False)


def test_a_relay_fetches_every_retained_topic_of_every_listed_service():
    listing = [{"uuid": "u1"}, {"uuid": "u2"}, {"nouuid": 1}, "junk"]
    topics = retained_topics(listing, {"u1": ["7", "12"]})
    assert topics[0] == "livetiming.directory"
    assert "livetiming.service.u1" in topics and "livetiming.service.u2" in topics
    for key in ("static", "driver", "messages", "session", "car_messages/7", "car_messages/12"):
        assert f"livetiming.analysis/u1/{key}" in topics
    assert not [topic for topic in topics if "/lap/" in topic or "/stint/" in topic]
    assert retained_topics("not a list", {}) == ["livetiming.directory"]


def test_car_numbers_are_read_through_the_column_spec():
    manifest = {"colSpec": [["Pos", "numeric"], ["Num", "text"]]}
    assert car_numbers(manifest, {"cars": [[1, "7"], [2, ["12", ""]], "junk"]}) == ["7", "12"]
    assert car_numbers({}, {"cars": [["3", "x"]]}) == ["3"]
    assert car_numbers(manifest, None) == []


# --- the relay node ------------------------------------------------------------------

@pytest.mark.parametrize("name, production", [("relay.json", False), ("relay.production.json", True)])
def test_committed_relay_configs_are_the_builders_output(name, production):
    assert json.loads((ROOT / "crossbar" / name).read_text()) == build_relay_config(production=production)


def test_a_relays_public_may_do_what_the_masters_may():
    from livetiming.orchestration.permissions import realm_roles

    public = {role["name"]: role for role in realm_roles()}["anonymous"]
    assert {role["name"]: role for role in relay_realm_roles()}["anonymous"] == public
    relay = build_relay_config()
    web = relay["workers"][0]["transports"][0]
    assert web["paths"]["ws"]["auth"] == {"anonymous": {"type": "static", "role": "anonymous"}}
    assert "relays" not in web["paths"] and web["paths"]["/"]["package"] == "livetiming.web"


def run_relay(tmp_path, *args, **env):
    merged = {**os.environ, **router_env(tmp_path), "LIVETIMING_RELAY_KEY": "", "LIVETIMING_RELAY_UPSTREAM": "",
              **env}
    return subprocess.run([command("livetiming-relay"), "--cbdir", str(tmp_path / "cb"), *args],
                          capture_output=True, text=True, timeout=60, env=merged)


@pytest.mark.parametrize("args, env, message", [
    ((), {}, "no upstream"),
    (("--upstream", "rs://unix:/tmp/x.sock"), {}, "not a ws:// or wss:// URL"),
    (("--upstream", "http://master/ws"), {}, "must start with ws://"),
    (("--upstream", "ws://m:5080/ws", "--public-url", "http://relay/"), {}, "--public-url"),
    (("--upstream", "ws://m:5080/ws"), {"LIVETIMING_RELAY_KEY": "short"}, "LIVETIMING_RELAY_KEY"),
    (("--upstream", "ws://m:5080/ws", "--report-interval", "0"), {}, "--report-interval"),
    (("--upstream", "ws://m:5080/ws"), {"LIVETIMING_RELAY_PORT": "99999"}, "LIVETIMING_RELAY_PORT"),
    (("--upstream", "ws://m:5080/ws", "--interface", "no such host"), {}, "--interface"),
])
def test_relay_usage_errors_are_one_line_and_exit_2(tmp_path, args, env, message):
    result = run_relay(tmp_path, *args, **env)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_relay_print_config_is_the_committed_one(tmp_path):
    result = run_relay(tmp_path, "--print-config")
    assert result.returncode == 0 and json.loads(result.stdout) == build_relay_config()


def test_router_relays_option_is_checked(tmp_path):
    env = {**os.environ, **router_env(tmp_path)}
    for bad in ("-1", "17", "x"):
        result = subprocess.run([command("livetiming-router"), "--relays", bad, "--cbdir", str(tmp_path / "cb")],
                                capture_output=True, text=True, timeout=60, env=env)
        assert result.returncode == 2 and "--relays" in result.stderr
