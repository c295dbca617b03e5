"""Standalone mode (protocol.md §8) with a real `livetiming-service demo`
process and real WebSocket clients."""
import json
import signal

import pytest
import websocket

from livetiming.protocol.lzstring import decompress_from_utf16
from processes import command

STARTUP = r"^Standalone server for uuid:([0-9a-f]{32}) listening on port:(\d+)$"


@pytest.fixture
def demo(processes, service_env):
    process = processes([command("livetiming-service"), "demo", "--cars", "20", "--speed", "30"])
    match = process.wait_for(STARTUP, stream="stderr", timeout=30)
    return process, match.group(1), int(match.group(2))


def connect(port):
    return websocket.create_connection(f"ws://127.0.0.1:{port}/", timeout=20)


def receive(client, topic_prefix=None):
    """The next frame (whose topic starts with `topic_prefix`, when given)."""
    while True:
        frame = client.recv()
        assert isinstance(frame, str), "frames are text frames"
        topic, wrapper = json.loads(frame)
        if topic_prefix is None or topic.startswith(topic_prefix):
            return topic, wrapper


def test_new_client_gets_manifest_and_state_at_once(demo):
    process, uuid, port = demo
    client = connect(port)
    try:
        topic, manifest = receive(client)
        assert topic == "livetiming.control"
        assert manifest["msgClass"] == 2 and manifest["payload"]["uuid"] == uuid
        assert manifest["payload"]["serviceClass"] == "demo"
        assert len(manifest["payload"]["colSpec"]) == 20
        topic, state = receive(client)
        assert topic == f"livetiming.service.{uuid}"
        assert state["msgClass"] == 8 and state["retain"] is True and isinstance(state["date"], int)
        payload = json.loads(decompress_from_utf16(state["payload"]))
        assert set(payload) >= {"cars", "session", "messages", "highlight"}
        assert "flagState" in payload["session"]
        # then the latest analysis of every key (static, driver, messages, session, per-car keys)
        analysis = {}
        while f"livetiming.analysis/{uuid}/static" not in analysis:
            topic, wrapper = receive(client, "livetiming.analysis/")
            assert wrapper["msgClass"] == 7 and topic not in analysis
            analysis[topic] = wrapper
    finally:
        client.close()


def test_every_client_gets_every_later_message(demo):
    process, uuid, port = demo
    clients = [connect(port), connect(port)]
    try:
        for client in clients:
            receive(client)
            _, first = receive(client)
        dates = []
        for client in clients:
            topic, later = receive(client, "livetiming.service.")
            assert topic == f"livetiming.service.{uuid}" and later["msgClass"] == 8
            dates.append(later["date"])
            cars = json.loads(decompress_from_utf16(later["payload"]))["cars"]
            assert len(cars) == 20 and len(cars[0]) == 20
        assert dates[0] == dates[1]
    finally:
        for client in clients:
            client.close()


def test_sigterm_stops_cleanly_and_saves_state(demo, tmp_path):
    process, uuid, port = demo
    client = connect(port)
    receive(client)
    receive(client)
    client.close()
    process.signal(signal.SIGTERM)
    assert process.wait() == 0
    saved = json.loads((tmp_path / "state" / f"{uuid}.json").read_text())
    assert set(saved) >= {"cars", "session", "messages", "highlight"}
    log = (tmp_path / "logs" / "demo.log").read_text()  # without -v the log goes to LIVETIMING_LOG_DIR
    assert "running standalone" in log


def test_resume_from_saved_state_reuses_uuid(demo, processes, tmp_path):
    process, uuid, port = demo
    process.signal(signal.SIGTERM)
    assert process.wait() == 0
    resumed = processes([command("livetiming-service"), "demo", "--cars", "20",
                         "-s", str(tmp_path / "state" / f"{uuid}.json")])
    assert resumed.wait_for(STARTUP, stream="stderr").group(1) == uuid


def test_standalone_flag_wins_over_a_configured_router(processes, service_env):
    process = processes([command("livetiming-service"), "demo", "--standalone"],
                        env={"LIVETIMING_ROUTER": "ws://127.0.0.1:9/ws", "LIVETIMING_SHARED_SECRET": "x"})
    port = int(process.wait_for(STARTUP, stream="stderr").group(2))
    client = connect(port)
    try:
        assert receive(client)[0] == "livetiming.control"
    finally:
        client.close()
