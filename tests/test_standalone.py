"""Standalone mode (protocol.md §8) with a real `livetiming-service demo`
process and real WebSocket clients."""
import base64
import json
import os
import queue
import signal
import socket
import struct
import threading
import time
from pathlib import Path

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


def handshake(port, receive_buffer=None):
    """A raw WebSocket client socket, upgraded; nothing after the HTTP response is read."""
    sock = socket.socket()
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(20)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    response = b""
    while not response.endswith(b"\r\n\r\n"):  # byte by byte: the frames after it stay unread
        byte = sock.recv(1)
        assert byte, f"connection closed during the handshake: {response!r}"
        response += byte
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def masked_frame_header(opcode, length, fin=True):
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        header = bytes([first, 0x80 | length])
    elif length < 1 << 16:
        header = bytes([first, 0x80 | 126]) + struct.pack(">H", length)
    else:
        header = bytes([first, 0x80 | 127]) + struct.pack(">Q", length)
    return header + b"\0\0\0\0"  # a zero mask: the payload goes as it is


def peak_memory(pid):
    """The process's peak resident set size, in bytes (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def keep_sending(sock, start, chunk, cap):
    """Send `start`, then `chunk` until the peer drops us or `cap` bytes are sent; bytes sent."""
    sent = 0
    try:
        sock.sendall(start)
        while sent < cap:
            sock.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        return sent
    raise AssertionError(f"still connected after sending {sent} bytes")


MIB = 1024 * 1024
ATTACKS = {
    "one 1 GiB frame": lambda: (masked_frame_header(0x1, 1 << 30), bytes(MIB)),
    "a message of 32 KiB fragments": lambda: (masked_frame_header(0x1, 32 * 1024, fin=False) + bytes(32 * 1024),
                                              masked_frame_header(0x0, 32 * 1024, fin=False) + bytes(32 * 1024)),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_client_sending_a_huge_message_is_dropped_and_memory_stays_bounded(demo, attack):
    process, uuid, port = demo
    sock = handshake(port)
    before = peak_memory(process.proc.pid)
    start, chunk = ATTACKS[attack]()
    with sock:
        sent = keep_sending(sock, start, chunk, cap=256 * MIB)
    assert sent < 64 * MIB  # what the kernel's buffers took before the peer's reset reached us
    assert peak_memory(process.proc.pid) - before < 32 * MIB
    client = connect(port)  # the service goes on serving
    try:
        assert receive(client)[0] == "livetiming.control"
    finally:
        client.close()


def test_a_client_sending_an_endless_handshake_is_dropped(demo):
    process, uuid, port = demo
    before = peak_memory(process.proc.pid)
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sent = keep_sending(sock, b"GET / HTTP/1.1\r\nX-Junk: ", b"a" * MIB, cap=256 * MIB)
    assert sent < 64 * MIB and peak_memory(process.proc.pid) - before < 32 * MIB


def test_a_client_that_never_reads_is_dropped_and_the_others_get_every_state(processes, service_env):
    process = processes([command("livetiming-service"), "demo", "-v", "--cars", "60", "--speed", "30"],
                        env={"LIVETIMING_STANDALONE_MAX_BUFFER": str(64 * 1024)})
    uuid, port = process.wait_for(STARTUP, stream="stderr").groups()
    reader = connect(int(port))
    states = queue.Queue()

    def read_states():
        try:
            while True:
                topic, _ = json.loads(reader.recv())
                if topic == f"livetiming.service.{uuid}":
                    states.put(time.monotonic())
        except Exception as error:  # noqa: BLE001 - handed to the test thread
            states.put(error)

    threading.Thread(target=read_states, daemon=True).start()

    def next_state():
        item = states.get(timeout=20)
        assert not isinstance(item, Exception), f"the reading client lost its connection: {item!r}"
        return item

    try:
        received = [next_state()]
        stalled = handshake(int(port), receive_buffer=4096)
        process.wait_for(r"Standalone client \S+ dropped: it has not read \d+ bytes sent to it \(limit 65536\); "
                         r"1 clients left", stream="stdout", timeout=120)
        while not states.empty():  # what the reading client received meanwhile
            received.append(next_state())
        received += [next_state(), next_state()]  # and it goes on receiving
        gaps = [later - earlier for earlier, later in zip(received, received[1:])]
        assert len(received) >= 5 and max(gaps) < 2, gaps
        with stalled:  # the server closed it: what it had in flight, then the end
            try:
                while stalled.recv(MIB):
                    pass
            except ConnectionResetError:
                pass
    finally:
        reader.close()
