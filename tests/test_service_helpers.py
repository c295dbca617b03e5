"""Plugin helpers: Watchdog, DuePublisher, URL fetchers (simulated clock, plus
one real HTTP round trip)."""
import http.server
import json
import subprocess
import sys
import textwrap
import threading

import pytest
from twisted.internet import defer
from twisted.internet.task import Clock

from livetiming.protocol import Stat
from livetiming.service.base import BaseService
from livetiming.service.due_publisher import DuePublisher
from livetiming.service.fetcher import Fetcher, JSONFetcher, MultiLineFetcher
from livetiming.service.options import default_args
from livetiming.service.watchdog import Watchdog


def test_watchdog_fires_only_when_not_notified():
    clock, fired = Clock(), []
    dog = Watchdog(10, lambda: fired.append(clock.seconds()), reactor=clock)
    dog.start()
    clock.advance(9)
    dog.notify()
    clock.advance(9)
    assert fired == []
    clock.advance(1)
    assert fired == [19]
    assert not dog.running
    dog.notify()
    dog.stop()
    clock.advance(100)
    assert fired == [19]


def test_watchdog_survives_a_raising_action():
    clock = Clock()
    dog = Watchdog(1, lambda: 1 / 0, reactor=clock)
    dog.start()
    clock.advance(1)
    dog.start()
    assert dog.running


class PushPlugin(DuePublisher, BaseService):
    def getName(self):
        return "push"

    def getColumnSpec(self):
        return [Stat.NUM]

    def getRaceState(self):
        self.polls.append(self.reactor.seconds())
        return {"cars": [], "session": {"flagState": "green"}}


def test_due_publisher_publishes_when_due_at_most_once_a_second_and_every_60s(service_env):
    clock = Clock()
    plugin = PushPlugin(default_args("push", no_write_state=True), reactor=clock)
    plugin.polls = []
    plugin.start()
    assert plugin.polls == []  # not auto-polled
    plugin.set_due_publish()
    plugin.set_due_publish()
    clock.advance(1)
    assert plugin.polls == [1]
    clock.advance(1)
    assert plugin.polls == [1]
    plugin.set_due_publish()
    clock.advance(0.5)
    assert plugin.polls == [1]
    clock.advance(0.5)
    assert plugin.polls == [1, 3]
    clock.pump([1] * 60)
    assert plugin.polls == [1, 3, 63]
    plugin.stop()
    plugin.set_due_publish()
    clock.advance(5)
    assert plugin.polls == [1, 3, 63]


class ScriptedFetch:
    """Answers each fetch from a script of results (bytes or exceptions)."""

    def __init__(self, *results):
        self.results = list(results)
        self.urls = []

    def __call__(self, url):
        self.urls.append(url)
        result = self.results.pop(0)
        return defer.fail(result) if isinstance(result, Exception) else defer.succeed(result)


def test_fetcher_backs_off_exponentially_and_recovers():
    clock, got = Clock(), []
    fetch = ScriptedFetch(b"a", ConnectionError("x"), ConnectionError("x"), ConnectionError("x"), b"b", b"c")
    fetcher = Fetcher("http://upstream.invalid/feed", got.append, 5, reactor=clock, fetch=fetch)
    fetcher.start()
    assert got == ["a"]
    delays = []
    for _ in range(4):
        delays.append(clock.getDelayedCalls()[0].getTime() - clock.seconds())
        clock.advance(delays[-1])
    assert delays == [5, 1, 2, 4]  # the poll interval, then 1, 2, 4 s while failing (plugin API)
    assert got == ["a", "b"] and fetcher.failures == 0
    assert clock.getDelayedCalls()[0].getTime() - clock.seconds() == 5
    fetcher.stop()
    assert clock.getDelayedCalls() == []


def test_fetcher_waits_exactly_1_2_4_s_while_the_source_fails_up_to_the_cap():
    clock = Clock()
    fetcher = Fetcher("u", print, 30, reactor=clock, fetch=ScriptedFetch(*[ConnectionError("down")] * 12),
                      max_backoff=300)
    fetcher.start()
    delays = []
    for _ in range(11):
        delays.append(clock.getDelayedCalls()[0].getTime() - clock.seconds())
        clock.advance(delays[-1])
    assert delays == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert fetcher.failures == 12


def test_one_backoff_policy_for_every_retrier():
    from twisted.internet.protocol import ReconnectingClientFactory

    from livetiming import backoff
    from livetiming.cli import host
    from livetiming.orchestration import supervisor
    from livetiming.service import router
    from livetiming.service.upstream import ReconnectingWebSocketClientFactory

    assert router.RETRY == {"max_retries": -1, "initial_retry_delay": 1.0, "max_retry_delay": 30.0,
                            "retry_delay_growth": 1.5, "retry_delay_jitter": 0.1}
    assert host.RETRY == backoff.autobahn_retry(backoff.COMPONENT_HOST)
    assert host.RETRY["initial_retry_delay"] == 0.25 and host.RETRY["max_retry_delay"] == 2.0
    factory = ReconnectingWebSocketClientFactory("ws://upstream.invalid/feed")
    assert (factory.initialDelay, factory.maxDelay) == (1, 30)
    assert (factory.factor, factory.jitter) == (ReconnectingClientFactory.factor, ReconnectingClientFactory.jitter)
    restart = supervisor.restart_delays()
    assert [restart(n) for n in range(7)] == [0.5, 1, 2, 4, 8, 10, 10]
    assert [backoff.ROUTER_SETUP.delay(n) for n in range(8)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert [backoff.FETCHER.delay(n) for n in (0, 1, 2, 5000)] == [1, 2, 4, 300]


def test_jittered_delays_stay_between_zero_and_the_cap():
    import random

    from livetiming.backoff import BackoffPolicy

    policy = BackoffPolicy("t", initial=1, factor=2, max=10, jitter=0.5)
    delays = policy.delays(random.Random(7))
    values = [delays(n) for n in range(50)]
    assert all(0 <= value <= 10 for value in values) and len(set(values)) > 1
    assert policy.delay(3) == 8


def test_fetcher_backoff_is_capped():
    fetcher = Fetcher("u", print, 10, reactor=Clock(), max_backoff=60)
    fetcher.failures = 10
    assert fetcher.next_delay() == 60


def test_json_and_multiline_fetchers_decode():
    clock, got = Clock(), []
    JSONFetcher("u", got.append, 1, reactor=clock, fetch=ScriptedFetch(b'{"a": [1]}')).start()
    MultiLineFetcher("u", got.append, 1, reactor=clock, fetch=ScriptedFetch(b"l1\r\nl2\n")).start()
    assert got == [{"a": [1]}, ["l1", "l2"]]


def test_json_fetcher_counts_bad_json_as_a_failure():
    clock, got = Clock(), []
    fetcher = JSONFetcher("u", got.append, 1, reactor=clock, fetch=ScriptedFetch(b"<html>"))
    fetcher.start()
    assert got == [] and fetcher.failures == 1


def test_a_raising_callback_does_not_stop_the_fetcher():
    clock = Clock()
    fetcher = Fetcher("u", lambda data: 1 / 0, 1, reactor=clock, fetch=ScriptedFetch(b"a", b"b"))
    fetcher.start()
    clock.advance(1)
    assert fetcher.failures == 0 and fetch_count(fetcher) == 2


def fetch_count(fetcher):
    return len(fetcher._fetch.urls)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/ok":
            body = json.dumps({"cars": 3}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(503)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_real_http_fetch_and_http_errors(http_server):
    script = textwrap.dedent(f'''
        import json, sys
        from twisted.internet import reactor
        from livetiming.service.fetcher import JSONFetcher
        results = []
        def done(data):
            results.append(data)
            bad.start()
        bad = JSONFetcher("{http_server}/missing", results.append, 0.05, max_backoff=0.1)
        good = JSONFetcher("{http_server}/ok", done, 60)
        def finish():
            print(json.dumps({{"results": results, "failures": bad.failures}}))
            reactor.stop()
        reactor.callWhenRunning(good.start)
        reactor.callLater(1.0, finish)
        reactor.callLater(20, reactor.stop)
        reactor.run()
    ''')
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["results"] == [{"cars": 3}]
    assert report["failures"] >= 2  # 503s count as failures and are retried with back-off


def test_backoff_never_overflows_with_a_float_interval():
    fetcher = Fetcher("u", print, 5.0, reactor=Clock(), max_backoff=300)
    fetcher.failures = 5000
    assert fetcher.next_delay() == 300


def test_a_fetch_in_flight_across_stop_and_start_is_ignored():
    clock, got, pending = Clock(), [], []

    def fetch(url):
        pending.append(defer.Deferred())
        return pending[-1]

    fetcher = Fetcher("u", got.append, 10, reactor=clock, fetch=fetch)
    fetcher.start()
    fetcher.stop()
    fetcher.start()
    pending[0].callback(b"late")
    assert got == [] and len(clock.getDelayedCalls()) == 0
    pending[1].callback(b"fresh")
    assert got == ["fresh"] and len(clock.getDelayedCalls()) == 1


def test_an_upstream_that_never_answers_times_out_and_backs_off():
    import socket
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        script = textwrap.dedent(f'''
            from twisted.internet import reactor
            from livetiming.service.fetcher import Fetcher
            fetcher = Fetcher("http://127.0.0.1:{silent.getsockname()[1]}/", print, 0.2, timeout=0.5)
            def report():
                print("failures", fetcher.failures)
                reactor.stop()
            reactor.callWhenRunning(fetcher.start)
            reactor.callLater(3, report)
            reactor.run()
        ''')
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split("failures")[-1]) >= 2


def test_standalone_server_skips_closing_clients():
    from livetiming.protocol import Message, MessageClass
    from livetiming.service.standalone import StandaloneServer

    class Client:
        STATE_OPEN, STATE_CLOSING = 1, 2

        def __init__(self, state):
            self.state, self.sent = state, []

        def send_prepared(self, prepared):
            if self.state != self.STATE_OPEN:
                raise ConnectionError("not open")
            self.sent.append(prepared.payload)
            return True

    server = StandaloneServer(lambda: [])
    closing, open_client = Client(Client.STATE_CLOSING), Client(Client.STATE_OPEN)
    server.clients = [closing, open_client]
    server.publish("livetiming.control", Message(MessageClass.SERVICE_REGISTRATION, {}, date=1))
    assert closing.sent == [] and len(open_client.sent) == 1


def test_send_backlog_counts_only_what_is_written_while_the_transport_is_full():
    from livetiming.service.standalone import SendBacklog

    backlog = SendBacklog(limit=100)
    assert backlog.wrote(1000) is False  # the transport has room: nothing is waiting
    backlog.pause()
    assert backlog.wrote(60) is False and backlog.wrote(40) is False
    assert backlog.wrote(1) is True and backlog.waiting == 101
    backlog.resume()  # the transport emptied its buffer: the client reads
    assert backlog.wrote(1000) is False and backlog.waiting == 0
    backlog.pause()
    backlog.wrote(90)
    backlog.forgive()
    assert backlog.waiting == 0 and backlog.paused


@pytest.mark.parametrize("body, expected", [
    (b'{"id": 9007199254740993, "t": 1.5}', {"id": 9007199254740993, "t": 1.5}),
    # beyond 64 bits orjson reads an integer as a float (simplejson kept it exact)
    (b'{"big": 123456789012345678901234567890}', {"big": 1.2345678901234568e29}),
    (b'\xef\xbb\xbf{"a": 1}', {"a": 1}),
    (b'{"text": "NaN and Infinity are words"}', {"text": "NaN and Infinity are words"}),
    (b'{"a": NaN}', None),
    (b'[1, [-Infinity]]', None),
    (b"[" * 100 + b"]" * 100, None),  # deeper than untrusted.Limits.json_depth
])
def test_json_fetcher_reads_what_simplejson_read_did(body, expected):
    """One JSON library policy: upstream bodies are untrusted (untrusted.loads,
    orjson) but read as simplejson read them, bar integers beyond 64 bits."""
    clock, got = Clock(), []
    fetcher = JSONFetcher("u", got.append, 1, reactor=clock, fetch=ScriptedFetch(body))
    fetcher.start()
    assert got == ([] if expected is None else [expected])
    assert fetcher.failures == (1 if expected is None else 0)


def test_standalone_frames_write_decimals_as_numbers():
    import json
    from decimal import Decimal

    from livetiming.protocol import Message, MessageClass
    from livetiming.service.standalone import encode_frame

    message = Message(MessageClass.SERVICE_DATA, {"time": Decimal("100.125"), "name": "é"}, date=1)
    frame = encode_frame("topic", message)
    assert json.loads(frame) == ["topic", {"msgClass": int(MessageClass.SERVICE_DATA), "date": 1,
                                           "payload": {"time": 100.125, "name": "é"}}]
    assert b'"\\u00e9"' in frame  # ASCII, as simplejson wrote it
