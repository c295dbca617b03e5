"""Calls cannot starve publishing: a real router, a real demo service, an
anonymous client calling requestState and requestAnalysisData 1,000 times a
second for 10 s, and a subscriber timing the states as they arrive."""
import json
import sys
from pathlib import Path

from network import free_port, router_env, start_router, start_service

FLOOD = str(Path(__file__).with_name("call_flood.py"))
RATE, SECONDS = 1000, 10
MAX_GAP = 2.0
"""Seconds: the longest a client may wait for the next state (the service publishes one a second)."""


def json_line(process, key, timeout=30):
    """The next JSON line on stdout holding `key` (an "error" line fails the test)."""
    match = process.wait_for(r'^\{"(%s|error)"' % key, stream="stdout", timeout=timeout)
    line = json.loads(match.string)
    assert "error" not in line, line
    return line


def test_a_thousand_calls_a_second_do_not_delay_any_state(processes, tmp_path):
    router, url = start_router(processes, tmp_path, port=free_port())
    service, uuid = start_service(processes, url, tmp_path, "demo", "--cars", "60", "--speed", "10")
    env = router_env(tmp_path)
    subscriber = processes([sys.executable, FLOOD, "subscribe", url, uuid], env=env)
    json_line(subscriber, "subscribed")
    states = [json_line(subscriber, "state")["state"] for _ in range(2)]

    flood = processes([sys.executable, FLOOD, "flood", url, uuid, str(RATE), str(SECONDS)], env=env)
    json_line(flood, "flooding")
    report = json_line(flood, "done", timeout=SECONDS + 60)
    while not subscriber.lines.empty() or len(states) < 2 + SECONDS:
        states.append(json_line(subscriber, "state", timeout=MAX_GAP + 10)["state"])
    states.append(json_line(subscriber, "state", timeout=MAX_GAP + 10)["state"])  # one after the flood

    assert report["errors"] == 0 and report["unanswered"] == 0, report
    assert report["answered"] >= 0.9 * RATE * SECONDS, report  # the load was real
    gaps = [later - earlier for earlier, later in zip(states, states[1:])]
    print(f"flood: {report}; {len(states)} states, longest gap {max(gaps):.3f}s")
    assert max(gaps) < MAX_GAP, gaps
