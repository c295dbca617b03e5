"""A `livetiming.client` Subscriber spread over real relays by the master:
it picks the least-loaded relay from `/relays`, and when that relay is
killed (SIGKILL, so the master keeps listing it, as the least loaded even)
it picks the other relay, not the dead one, and gets the retained state
there."""
import signal
import time

from network import relays_listed, router_env, start_relay, start_router, start_service
from processes import descendants, wait_gone
from test_client_network import start_probe

KEYS = ["client-test-key-one-0123456789", "client-test-key-two-0123456789"]


def until(condition, timeout=60.0, interval=0.2, what="condition"):
    """Poll the master's HTTP list (there is no event to await) within a deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(interval)


def test_subscriber_repicks_another_relay_when_its_relay_dies(processes, tmp_path):
    key_file = tmp_path / "relay-keys"
    key_file.write_text("\n".join(KEYS) + "\n")
    env = router_env(tmp_path, LIVETIMING_RELAY_KEY_FILE=key_file)  # the production expiry: 5 minutes
    master, url = start_router(processes, tmp_path, env=env)
    http = url.replace("ws://", "http://").removesuffix("/ws")
    service, uuid = start_service(processes, url, tmp_path, "demo", "--cars", "20", "--speed", "10")
    doomed_process, doomed = start_relay(processes, tmp_path, url, name="relay-doomed", key=KEYS[0])
    _, busy = start_relay(processes, tmp_path, url, name="relay-busy", key=KEYS[1])

    # two clients straight on the busy relay, so that the doomed one is the least loaded
    for _ in range(2):
        start_probe(processes, tmp_path, "url", busy, uuid).next("state", state=uuid)
    until(lambda: relays_listed(http) == {doomed: 0, busy: 2}, what="both relays listed with their clients")

    probe = start_probe(processes, tmp_path, "master", http, uuid)
    first = probe.next("state", state=uuid)
    assert first["url"] == doomed and first["cars"] == 20
    until(lambda: relays_listed(http).get(doomed) == 1, what="the subscriber counted on its relay")

    family = [doomed_process.proc.pid, *descendants(doomed_process.proc.pid)]
    doomed_process.signal(signal.SIGKILL)
    wait_gone(family)
    probe.next("status", status="disconnected")
    assert probe.next("status", status="connected", timeout=60)["url"] == busy
    retained = probe.next("state", state=uuid)  # at once: the latest state, retained by the relay
    assert retained["url"] == busy and retained["date"] >= first["date"]
    later = probe.next("state", state=uuid, where=lambda fields: fields["date"] > retained["date"])
    assert later["url"] == busy
    # the master still lists the dead relay as the least loaded: only the
    # subscriber's memory of the failure kept it away
    listed = relays_listed(http)
    assert listed[doomed] == 1 and listed[busy] >= 2
