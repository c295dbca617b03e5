"""One logging path: Twisted's logger, stdlib `logging` bridged into it, and
every line in the process's log file exactly once."""
import logging
import subprocess
import sys
import textwrap
import time

import pytest
from twisted.logger import LogLevel, STDLibLogObserver, globalLogPublisher

from livetiming.observability import bridge_stdlib_logging, event_from_record
from livetiming.recording import RecordingWriter
from network import components_url, router_env, start_router
from processes import command
from test_dvr import FAST
from test_recording_support import MANIFEST, demo_states


def read_when(path, *patterns, timeout=60):
    """The text of the log file at `path` once it holds every pattern (log
    files are written by another process: polled, with a deadline)."""
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text() if path.exists() else ""
        if all(pattern in text for pattern in patterns):
            return text
        missing = [pattern for pattern in patterns if pattern not in text]
        assert time.monotonic() < deadline, f"{path} still lacks {missing} after {timeout} s:\n{text}"
        time.sleep(0.1)


@pytest.fixture
def bridged():
    """The bridge on the root logger and the Twisted events it publishes,
    both undone afterwards (this is pytest's process)."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    events = []
    globalLogPublisher.addObserver(events.append)
    try:
        yield bridge_stdlib_logging(LogLevel.info), events
    finally:
        globalLogPublisher.removeObserver(events.append)
        root.handlers[:] = handlers
        root.setLevel(level)


def ours(events):
    return [e for e in events if e.get("log_stdlib")]


def test_stdlib_records_become_twisted_events_with_levels_and_failures(bridged):
    bridge, events = bridged
    assert bridge_stdlib_logging(LogLevel.info) is bridge  # installed once
    logging.getLogger("x").warning("careful with {braces} and %s", "args")
    logging.getLogger("x.y").debug("not at info")
    try:
        raise KeyError("plugin bug")
    except KeyError:
        logging.getLogger("plugin").exception("it broke")
    warning, error = ours(events)
    assert warning["log_level"] is LogLevel.warn and warning["log_namespace"] == "x"
    assert warning["log_text"] == "careful with {braces} and args" and "log_failure" not in warning
    assert error["log_level"] is LogLevel.error and error["log_failure"].type is KeyError


def test_levels_map_both_ways_and_custom_levels_round_down():
    def level(levelno):
        return event_from_record(logging.LogRecord("x", levelno, __file__, 1, "m", (), None))["log_level"]
    assert [level(n) for n in (5, 10, 20, 25, 30, 40, 50, 60)] == [
        LogLevel.debug, LogLevel.debug, LogLevel.info, LogLevel.info, LogLevel.warn, LogLevel.error,
        LogLevel.critical, LogLevel.critical]


def test_no_loop_and_no_duplicate_with_twisteds_stdlib_observer(bridged):
    """Twisted -> stdlib (STDLibLogObserver) -> bridge -> Twisted would go round
    for ever; stdlib -> bridge -> Twisted -> STDLibLogObserver -> stdlib would
    write the line twice. Both are cut."""
    bridge, events = bridged
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    keep = Keep()
    logging.getLogger().addHandler(keep)
    stdlib_observer = STDLibLogObserver()
    globalLogPublisher.addObserver(stdlib_observer)
    try:
        logging.getLogger("x").warning("from stdlib")
        from twisted.logger import Logger
        Logger(namespace="t").warn("from twisted")
    finally:
        globalLogPublisher.removeObserver(stdlib_observer)
    assert [e["log_text"] for e in ours(events)] == ["from stdlib"]
    assert [e.get("log_format") for e in events if not e.get("log_stdlib")] == ["from twisted"]
    assert sorted(str(r.getMessage()) for r in records) == ["from stdlib", "from stdlib", "from twisted"]
    # the bridged copy of "from stdlib" went back to stdlib once (to Keep), and stopped there


def test_a_stdlib_warning_reaches_the_log_file_once(tmp_path):
    """In a process of its own (starting logging is global): stdlib warnings,
    stdlib exceptions and Twisted lines all land in `<name>.log`, once each."""
    script = textwrap.dedent("""
        import logging
        from twisted.logger import Logger
        from livetiming.observability import start_logging
        start_logging("probe")
        logging.getLogger("x").warning("stdlib warning %d", 42)
        logging.getLogger("x").info("stdlib info")
        logging.getLogger("x").debug("stdlib debug")
        try:
            1 / 0
        except ZeroDivisionError:
            logging.getLogger("plugin").exception("stdlib exception")
        Logger(namespace="t").warn("twisted warning")
    """)
    env = {"LIVETIMING_LOG_DIR": str(tmp_path / "logs"), "SENTRY_DSN": "", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60, cwd=tmp_path)
    text = (tmp_path / "logs" / "probe.log").read_text()
    for line in ("[x#warn] stdlib warning 42", "[x#info] stdlib info", "[plugin#error] stdlib exception",
                 "ZeroDivisionError", "twisted warning"):
        assert text.count(line) == 1, (line, text)
    assert "stdlib debug" not in text


@pytest.mark.parametrize("where", ["standalone", "hosted"])
def test_dvr_lines_and_recording_writer_warnings_reach_the_dvr_log_file(processes, tmp_path, where):
    """The DVR (the standalone `livetiming-dvr`, or the router's component host
    `python -m livetiming.cli.host dvr`; neither verbose: they log to their
    file) resumes a recording whose last frame was damaged (the writer warns),
    then finishes it after the silence timeout (the DVR's shell says so)."""
    uuid = "feedfacefeedfacefeedfacefeedface"
    in_progress = tmp_path / "recordings-in-progress" / uuid
    in_progress.parent.mkdir(parents=True)
    writer = RecordingWriter(in_progress, {**MANIFEST, "uuid": uuid})
    for timestamp, state in demo_states()[:12]:
        writer.write_frame(timestamp, state)
    writer.close()
    last = sorted(p for p in in_progress.iterdir() if p.name[:1].isdigit())[-1]
    last.write_bytes(b"{")
    start_router(processes, tmp_path, env=router_env(tmp_path, **FAST),
                 args=["--no-dvr"] if where == "standalone" else [])
    if where == "standalone":
        env = {**router_env(tmp_path, **FAST), "LIVETIMING_ROUTER": components_url(tmp_path)}
        processes([command("livetiming-dvr")], env=env)
    log_file = tmp_path / "logs" / "livetiming-dvr.log"
    text = read_when(log_file, "DVR ready", f"damaged frame {last.name} set aside",
                     f"Recording finished: {tmp_path / 'recordings' / uuid}.zip")
    assert text.count(f"damaged frame {last.name} set aside") == 1
    assert text.count("Recording finished") == 1
