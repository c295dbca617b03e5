"""Subscriber worker for bench_network_load.py: many anonymous WAMP sessions in
one process, each subscribed to every service's state topic.

    python benchmarks/load_subscriber.py --url ws://127.0.0.1:PORT/ws --sessions 25 --out events.json

It prints `READY <n>` once all sessions have subscribed and records, per
session, every state event it receives as (uuid, wrapper date, receive time).
On SIGTERM it writes them to --out as JSON and exits. Recording is all it does
during the run (no decompression), so that the numbers are about the network
path, not about what a web client does with a state afterwards.
"""
import argparse
import json
import sys
import time

from autobahn.twisted.component import Component
from autobahn.wamp.types import SubscribeOptions
from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks

REALM = "timing"
STATE_PREFIX = "livetiming.service."
SERVICE_DATA_COMPRESSED = 8


class Recorder:
    """Events of all sessions of this process, kept in memory until shutdown
    (appending a tuple is the cheapest thing we can do on the hot path)."""

    def __init__(self, sessions: int):
        self.events = []          # (session index, uuid, date ms, receive ms)
        self.other = 0            # events that were not a compressed state
        self.subscribed = set()
        self.disconnects = 0
        self.sessions = sessions
        self.payload_bytes = []   # UTF-8 size of payloads seen by one session (a sample)

    def handler(self, index: int, sample_sizes: bool):
        events = self.events

        def on_event(wrapper, details=None):
            received = time.time() * 1000.0
            if not isinstance(wrapper, dict) or wrapper.get("msgClass") != SERVICE_DATA_COMPRESSED:
                self.other += 1
                return
            events.append((index, details.topic[len(STATE_PREFIX):], wrapper["date"], received))
            if sample_sizes:
                self.payload_bytes.append(len(wrapper["payload"].encode("utf-8", "surrogatepass")))

        return on_event

    def mark_subscribed(self, index: int) -> None:
        self.subscribed.add(index)
        if len(self.subscribed) == self.sessions:
            print(f"READY {self.sessions}", flush=True)

    def dump(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as out:
            json.dump({"sessions": self.sessions, "subscribed": len(self.subscribed),
                       "disconnects": self.disconnects, "other": self.other,
                       "payload_bytes": self.payload_bytes,
                       "events": self.events}, out)


def make_session(recorder: Recorder, index: int, url: str, sample_sizes: bool) -> Component:
    """One anonymous session (JSON serializer, like the web client), subscribed
    by prefix so it sees every service; no retained event is asked for, so
    everything it records was published while it was listening."""
    component = Component(
        transports=[{"type": "websocket", "url": url, "serializers": ["json"],
                     "max_retries": 5, "initial_retry_delay": 0.5}],
        realm=REALM,
    )

    @component.on_join
    @inlineCallbacks
    def joined(session, details):
        yield session.subscribe(recorder.handler(index, sample_sizes), STATE_PREFIX,
                                options=SubscribeOptions(match="prefix", details=True))
        recorder.mark_subscribed(index)

    @component.on_disconnect
    def disconnected(session, was_clean):
        recorder.disconnects += 1

    return component


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--sessions", type=int, required=True)
    parser.add_argument("--first-index", type=int, default=0, help="index of this worker's first session")
    parser.add_argument("--out", required=True, help="where to write the recorded events on SIGTERM")
    options = parser.parse_args()
    if not options.url.startswith("ws://127.0.0.1:"):
        sys.exit("load_subscriber: loopback URLs only (ws://127.0.0.1:PORT/ws)")

    recorder = Recorder(options.sessions)
    for index in range(options.first_index, options.first_index + options.sessions):
        sample_sizes = index == options.first_index
        done = make_session(recorder, index, options.url, sample_sizes).start(reactor)
        done.addErrback(lambda failure, index=index: print(
            f"session {index} gave up: {failure.getErrorMessage()}", file=sys.stderr, flush=True))
    # SIGTERM -> reactor.stop() -> this trigger runs before sessions are torn down.
    reactor.addSystemEventTrigger("before", "shutdown", recorder.dump, options.out)
    reactor.run()


if __name__ == "__main__":
    main()
