"""livetiming.client without a router: the relay list read over HTTP (a
tiny loopback server), the rule choosing the next server, decoding."""
import http.server
import json
import random
import threading

import pytest

from livetiming.client import (
    AVOID_FOR,
    DecodeError,
    Failures,
    RelayListError,
    decode_listing,
    decode_state,
    fetch_listing,
    master_urls,
    next_url,
    pick_relay,
    standalone_url,
)
from livetiming.client.relays import MAX_ANSWER, parse_answer
from livetiming.client.standalone import parse_frame
from livetiming.client.subscriber import Subscriber, SubscriberURLError
from livetiming.protocol import Message, MessageClass
from livetiming.protocol.lzstring import compressToUTF16

MASTER_WS = "ws://master:5080/ws"


class _Answer(http.server.BaseHTTPRequestHandler):
    body = b""
    code = 200
    paths = []

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).paths.append(self.path)
        self.send_response(self.code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_master():
    """A loopback HTTP server answering every GET with `handler.body`."""
    handler = type("Handler", (_Answer,), {"paths": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def answer(listing) -> bytes:
    return json.dumps({"args": [listing]}).encode()


# ------------------------------------------------------------- pick_relay


def test_pick_relay_takes_the_least_loaded(http_master):
    handler, master = http_master
    handler.body = answer({"ws://a:1/ws": 5, "ws://b:2/ws": 2, "ws://c:3/ws": 9})
    assert pick_relay(master) == "ws://b:2/ws"
    assert handler.paths == ["/relays"]


def test_pick_relay_breaks_ties_at_random(http_master):
    handler, master = http_master
    handler.body = answer({"ws://a:1/ws": 2, "ws://b:2/ws": 2, "ws://c:3/ws": 3})
    picked = {pick_relay(master, rng=random.Random(seed)) for seed in range(40)}
    assert picked == {"ws://a:1/ws", "ws://b:2/ws"}


def test_pick_relay_without_relays_is_the_master_itself(http_master):
    handler, master = http_master
    handler.body = answer({})
    port = master.rsplit(":", 1)[1]
    assert pick_relay(master) == f"ws://127.0.0.1:{port}/ws"
    assert pick_relay(master + "/some/page") == f"ws://127.0.0.1:{port}/ws"


def test_malformed_entries_are_skipped(http_master):
    handler, master = http_master
    handler.body = answer({"http://not-ws/": 0, "ws://ok:1/ws": 4, "ws://neg:1/ws": -1, "ws://bool:1/ws": True})
    assert fetch_listing(master) == {"ws://ok:1/ws": 4}


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"args": []}', b'{"args": [[]]}', b'{"args": {}}',
                                  b"[" * 100 + b"]" * 100])
def test_a_body_that_is_not_a_relay_list_is_one_error(http_master, body):
    handler, master = http_master
    handler.body = body
    with pytest.raises(RelayListError):
        pick_relay(master)


def test_an_oversized_answer_is_refused(http_master):
    handler, master = http_master
    handler.body = answer({f"ws://relay{i}.example:1/ws": i for i in range(MAX_ANSWER // 20)})
    assert len(handler.body) > MAX_ANSWER
    with pytest.raises(RelayListError, match="more than"):
        pick_relay(master)


def test_an_http_error_is_a_relay_list_error(http_master):
    handler, master = http_master
    handler.code, handler.body = 503, b"{}"
    with pytest.raises(RelayListError, match="HTTP 503"):
        pick_relay(master)


def test_an_unreachable_master_is_a_relay_list_error(http_master):
    from network import free_port

    with pytest.raises(RelayListError, match="cannot read"):
        pick_relay(f"http://127.0.0.1:{free_port()}", timeout=5)


@pytest.mark.parametrize("url", ["ws://host:1/ws", "ftp://host/", "http://", "http://host:port/", "host:5080"])
def test_a_master_url_must_be_http(url):
    with pytest.raises(RelayListError, match="master URL"):
        master_urls(url)


def test_master_urls():
    assert master_urls("http://h:5080") == ("http://h:5080/relays", "ws://h:5080/ws")
    assert master_urls("https://timing.example/") == ("https://timing.example/relays", "wss://timing.example/ws")


def test_parse_answer_reads_the_shape_clients_parse():
    assert parse_answer(b'{"args": [{"wss://r.example/ws": 0}]}') == {"wss://r.example/ws": 0}


# ------------------------------------------------------------- next_url


def test_next_url_is_the_least_loaded_relay():
    listing = {"ws://a/ws": 3, "ws://b/ws": 1}
    assert next_url(listing, MASTER_WS, Failures(), now=100.0) == "ws://b/ws"


def test_next_url_passes_over_a_relay_that_failed_lately():
    listing = {"ws://a/ws": 3, "ws://b/ws": 1}
    failures = Failures().record("ws://b/ws", 100.0)
    assert next_url(listing, MASTER_WS, failures, now=101.0) == "ws://a/ws"
    assert next_url(listing, MASTER_WS, failures, now=100.0 + AVOID_FOR - 1) == "ws://a/ws"
    # once the master would have dropped it, it is a candidate again
    assert next_url(listing, MASTER_WS, failures, now=100.0 + AVOID_FOR) == "ws://b/ws"


def test_next_url_is_the_master_when_every_relay_failed_or_none_is_listed():
    listing = {"ws://a/ws": 3}
    failures = Failures().record("ws://a/ws", 10.0)
    assert next_url(listing, MASTER_WS, failures, now=11.0) == MASTER_WS
    assert next_url({}, MASTER_WS, Failures(), now=11.0) == MASTER_WS
    assert next_url(None, MASTER_WS, Failures(), now=11.0) == MASTER_WS
    # the master stays the fallback even when it failed too: nothing else is left
    assert next_url(listing, MASTER_WS, failures.record(MASTER_WS, 11.0), now=12.0) == MASTER_WS


def test_a_relay_that_worked_again_is_forgiven():
    failures = Failures().record("ws://a/ws", 10.0).record("ws://b/ws", 10.0).forget("ws://a/ws")
    assert failures.recent(11.0) == {"ws://b/ws"}
    assert next_url({"ws://a/ws": 5, "ws://b/ws": 0}, MASTER_WS, failures, now=11.0) == "ws://a/ws"


def test_next_url_ties_at_random_among_usable_relays():
    listing = {"ws://a/ws": 1, "ws://b/ws": 1, "ws://c/ws": 1}
    failures = Failures().record("ws://c/ws", 0.0)
    picked = {next_url(listing, MASTER_WS, failures, 1.0, rng=random.Random(seed)) for seed in range(40)}
    assert picked == {"ws://a/ws", "ws://b/ws"}


# --------------------------------------------------------------- decoding

STATE = {"cars": [["1", "RUN", [61.5, "pb"]]], "session": {"flagState": "green"}, "messages": [],
         "highlight": []}


def test_decode_compressed_and_plain_states():
    compressed = Message(MessageClass.SERVICE_DATA_COMPRESSED, compressToUTF16(json.dumps(STATE)), retain=True)
    assert decode_state(compressed) == STATE
    assert decode_state(Message(MessageClass.SERVICE_DATA, STATE)) == STATE


@pytest.mark.parametrize("message", [
    Message(MessageClass.SERVICE_DATA_COMPRESSED, "garbage \u0001"),
    Message(MessageClass.SERVICE_DATA_COMPRESSED, 12),
    Message(MessageClass.SERVICE_DATA_COMPRESSED, compressToUTF16("[1, 2]")),
    Message(MessageClass.SERVICE_DATA, "text"),
    Message(MessageClass.DIRECTORY_LISTING, []),
])
def test_undecodable_states_are_decode_errors(message):
    with pytest.raises(DecodeError):
        decode_state(message)


def test_decode_listing_keeps_manifests_with_a_uuid():
    listing = Message(MessageClass.DIRECTORY_LISTING, [{"uuid": "a", "name": "A"}, {"name": "no uuid"}, 7])
    assert decode_listing(listing) == [{"uuid": "a", "name": "A"}]
    with pytest.raises(DecodeError):
        decode_listing(Message(MessageClass.DIRECTORY_LISTING, {"uuid": "a"}))


def test_standalone_frames():
    assert parse_frame(b'["livetiming.control", {"msgClass": 2}]') == ("livetiming.control", {"msgClass": 2})
    for bad in (b"{}", b'["a"]', b"[1, {}]", b"nope"):
        with pytest.raises(DecodeError):
            parse_frame(bad)


@pytest.mark.parametrize("text, url", [("5090", "ws://127.0.0.1:5090"), ("host:5090", "ws://host:5090"),
                                       ("ws://host:5090", "ws://host:5090")])
def test_standalone_url(text, url):
    assert standalone_url(text) == url


@pytest.mark.parametrize("text", ["http://host:1", "ws://host", "host:port"])
def test_bad_standalone_urls(text):
    with pytest.raises(SubscriberURLError):
        standalone_url(text)


@pytest.mark.parametrize("kwargs", [{}, {"url": "ws://a:1/ws", "master": "http://a:1"}, {"url": "http://a:1/ws"},
                                    {"url": "ws://a:99999/ws"}])
def test_a_subscriber_needs_one_usable_url(kwargs):
    with pytest.raises((SubscriberURLError, RelayListError)):
        Subscriber(**kwargs)


# ------------------------------------------------------ pick_relay_async

ASYNC_PICK = r"""
import sys
from twisted.internet.task import react
from livetiming.client import pick_relay_async

def main(reactor):
    def done(result):
        print("picked", result)
    def failed(failure):
        print("error", type(failure.value).__name__, failure.getErrorMessage())
    return pick_relay_async(sys.argv[1], timeout=10, reactor=reactor).addCallbacks(done, failed)

react(main)
"""


def pick_async(master: str) -> str:
    """`pick_relay_async` run in a reactor of its own (a child process)."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", ASYNC_PICK, master], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_pick_relay_async(http_master):
    handler, master = http_master
    handler.body = answer({"ws://a:1/ws": 5, "ws://b:2/ws": 2})
    assert pick_async(master) == "picked ws://b:2/ws"
    handler.body = answer({})
    assert pick_async(master) == f"picked ws://127.0.0.1:{master.rsplit(':', 1)[1]}/ws"


def test_pick_relay_async_failures_are_relay_list_errors(http_master):
    from network import free_port

    handler, master = http_master
    handler.body = answer({f"ws://relay{i}.example:1/ws": i for i in range(MAX_ANSWER // 20)})
    assert pick_async(master).startswith("error RelayListError") and "more than" in pick_async(master)
    handler.code, handler.body = 500, b"{}"
    assert pick_async(master) == f"error RelayListError {master}/relays answered HTTP 500"
    handler.code, handler.body = 200, b"[1]"
    assert pick_async(master).startswith("error RelayListError the master's relay list is not")
    assert pick_async(f"http://127.0.0.1:{free_port()}").startswith("error RelayListError cannot read")
