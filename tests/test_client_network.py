"""livetiming.client against a real router (`livetiming-router`, Crossbar)
with a real demo service: pick_relay reads its `/relays`, and a Subscriber
(run in its own process, printing what it receives as JSON lines) gets the
retained state at once and again after the router restarts on its port."""
import json
import sys

import pytest

from livetiming.client import pick_relay
from network import router_env, start_router, start_service

PROBE = r"""
import json, sys
from twisted.internet import reactor
from livetiming.backoff import BackoffPolicy
from livetiming.client import Subscriber

kind, target, uuid, when = sys.argv[1:5]

def emit(**fields):
    print(json.dumps(fields), flush=True)

def on_state(uuid, state, message):
    emit(state=uuid, cars=len(state.get("cars", [])), flag=state.get("session", {}).get("flagState"),
         date=message.date, url=subscriber.url)

def on_listing(listing):
    emit(listing=sorted(m["uuid"] for m in listing))
    if when == "late":  # as a viewer does: follow the service once it is listed
        subscriber.follow(uuid)

subscriber = Subscriber(**{kind: target}, on_state=on_state, on_listing=on_listing,
                        on_status=lambda status, url: emit(status=status, url=url),
                        policy=BackoffPolicy("test", initial=0.2, factor=1.5, max=2.0))
if when == "early":
    subscriber.follow(uuid)
subscriber.start()
reactor.run()
"""


class Probe:
    def __init__(self, process):
        self.process = process

    def next(self, key: str, timeout: float = 60, where=lambda fields: True, **expected) -> dict:
        """The next JSON line holding `key` (with the `expected` values, and
        `where` true of it)."""
        while True:
            line = self.process.wait_for(r'^\{"' + key + '"', timeout=timeout, stream="stdout")
            fields = json.loads(line.string)
            if all(fields.get(name) == value for name, value in expected.items()) and where(fields):
                return fields


def start_probe(processes, tmp_path, kind: str, target: str, uuid: str, when: str = "early") -> Probe:
    """A Subscriber in a process of its own, following `uuid` from the start
    (`early`) or once a listing names it (`late`)."""
    env = router_env(tmp_path)
    return Probe(processes([sys.executable, "-c", PROBE, kind, target, uuid, when], env=env))


@pytest.fixture
def network(processes, tmp_path):
    router, url = start_router(processes, tmp_path)
    service, uuid = start_service(processes, url, tmp_path, "demo", "--cars", "20", "--speed", "10")
    return router, url, uuid


def test_pick_relay_on_a_master_without_relays_is_the_master(network):
    _, url, _ = network
    http = url.replace("ws://", "http://").removesuffix("/ws")
    assert pick_relay(http, timeout=10) == url


def test_subscriber_gets_the_retained_state_and_again_after_a_router_restart(network, processes, tmp_path):
    router, url, uuid = network
    probe = start_probe(processes, tmp_path, "url", url, uuid)
    first = probe.next("state", state=uuid)
    assert first["cars"] == 20 and first["url"] == url
    probe.next("listing", where=lambda fields: uuid in fields["listing"])

    assert router.stop() == 0
    probe.next("status", status="disconnected")
    restarted, same_url = start_router(processes, tmp_path, port=int(url.rsplit(":", 1)[1].split("/")[0]))
    assert same_url == url
    assert probe.next("status", status="connected", timeout=90)["url"] == url
    after = probe.next("state", state=uuid)  # the retained state on the new router, then new ones
    assert after["cars"] == 20 and after["date"] > first["date"]


def test_subscriber_through_the_master_http_url(network, processes, tmp_path):
    _, url, uuid = network
    http = url.replace("ws://", "http://").removesuffix("/ws")
    probe = start_probe(processes, tmp_path, "master", http, uuid)
    state = probe.next("state", state=uuid)
    assert state["cars"] == 20 and state["url"] == url


def test_following_once_listed_gets_each_state_once(network, processes, tmp_path):
    _, url, uuid = network
    probe = start_probe(processes, tmp_path, "url", url, uuid, when="late")
    dates = [probe.next("state", state=uuid)["date"] for _ in range(4)]
    assert dates == sorted(set(dates)), "each state once, in order"
