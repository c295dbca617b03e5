"""WAMP clients for the call-flood test, each run as its own process (so that
the flood's CPU does not distort the subscriber's timing):

    python call_flood.py subscribe URL UUID
        one JSON line per state published on livetiming.service.UUID:
        {"state": <monotonic seconds at receipt>, "date": <the wrapper's date>}

    python call_flood.py flood URL UUID RATE SECONDS
        calls requestState.UUID and requestAnalysisData.UUID alternately,
        RATE calls a second in all, for SECONDS; prints {"flooding": true}
        when it starts and a report line {"done": true, ...} at the end.

Both join the realm anonymously, as the public does. The flood speaks CBOR
(autobahn-python's default): decoding a thousand results a second as JSON,
which autobahn does in pure Python, would hold the flood itself back."""
import json
import sys
import time

from autobahn.twisted.component import Component
from twisted.internet import defer, reactor, task

TICK = 0.01
"""The flood issues its calls in batches this often (seconds)."""
MAX_OUTSTANDING = 5000
"""Calls in flight at most (so a service that stops answering cannot make the flood grow without bound)."""


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def subscribe(session, uuid: str):
    def on_state(wrapper, *args, **kwargs):
        emit(state=time.monotonic(), date=wrapper.get("date") if isinstance(wrapper, dict) else None)
    return session.subscribe(on_state, f"livetiming.service.{uuid}")


@defer.inlineCallbacks
def flood(session, uuid: str, rate: float, seconds: float):
    procedures = [f"livetiming.service.requestState.{uuid}", f"livetiming.service.requestAnalysisData.{uuid}"]
    for procedure in procedures:  # both answer before the flood starts
        yield session.call(procedure)
    stats = {"calls": 0, "answered": 0, "errors": 0, "error_sample": None, "outstanding_max": 0}
    outstanding = set()

    def answered(result, d):
        outstanding.discard(d)
        stats["answered"] += 1

    def failed(failure, d):
        outstanding.discard(d)
        stats["errors"] += 1
        stats["error_sample"] = stats["error_sample"] or failure.getErrorMessage()

    started = time.monotonic()
    per_tick = rate * TICK

    def tick():
        due = int((time.monotonic() - started) * rate) - stats["calls"]  # catch up after a late tick
        for _ in range(max(0, min(due, int(per_tick * 10)))):
            if len(outstanding) >= MAX_OUTSTANDING:
                break
            d = session.call(procedures[stats["calls"] % 2])
            stats["calls"] += 1
            outstanding.add(d)
            d.addCallbacks(answered, failed, callbackArgs=(d,), errbackArgs=(d,))
        stats["outstanding_max"] = max(stats["outstanding_max"], len(outstanding))

    emit(flooding=True)
    loop = task.LoopingCall(tick)
    loop.start(TICK, now=True)
    yield task.deferLater(reactor, seconds, lambda: None)
    loop.stop()
    elapsed = time.monotonic() - started
    deadline = time.monotonic() + 30
    while outstanding and time.monotonic() < deadline:
        yield task.deferLater(reactor, 0.05, lambda: None)
    emit(done=True, seconds=round(elapsed, 3), rate=round(stats["calls"] / elapsed, 1), unanswered=len(outstanding),
         **stats)


def main() -> int:
    mode, url, uuid = sys.argv[1:4]
    serializers = ["cbor"] if mode == "flood" else ["json"]
    component = Component(transports=[{"type": "websocket", "url": url, "serializers": serializers}],
                          realm="timing")

    @component.on_join
    @defer.inlineCallbacks
    def joined(session, details):
        try:
            if mode == "subscribe":
                yield subscribe(session, uuid)
                emit(subscribed=True)
            else:
                yield flood(session, uuid, float(sys.argv[4]), float(sys.argv[5]))
                yield session.leave()
        except Exception as error:  # noqa: BLE001 - reported to the test, which fails on it
            emit(error=f"{type(error).__name__}: {error}")
            reactor.stop()

    @component.on_leave
    def left(session, details):
        if reactor.running:
            reactor.stop()

    component.start(reactor)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
