import pytest
from twisted.logger import globalLogPublisher

from processes import Process


@pytest.fixture
def service_env(tmp_path, monkeypatch):
    """Environment for service processes: private state/log dirs, standalone
    on any free port, and no router (so no stray livetiming.env applies)."""
    env = {
        "LIVETIMING_STATE_DIR": str(tmp_path / "state"),
        "LIVETIMING_LOG_DIR": str(tmp_path / "logs"),
        "LIVETIMING_ANALYSIS_DIR": str(tmp_path / "analysis"),
        "LIVETIMING_STANDALONE_PORT": "0",
        "LIVETIMING_ROUTER": "",
        "SENTRY_DSN": "",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def _process_starter():
    started = []

    def start(args, env=None, cwd=None):
        process = Process(args, env=env, cwd=cwd)
        started.append(process)
        return process

    return start, started


@pytest.fixture
def processes():
    """Start processes with `processes(args, env=...)`; all are stopped afterwards."""
    start, started = _process_starter()
    yield start
    for process in reversed(started):
        process.stop()


@pytest.fixture(scope="module")
def module_processes():
    """Like `processes`, for processes shared by a module's tests."""
    start, started = _process_starter()
    yield start
    for process in reversed(started):
        process.stop()


@pytest.fixture
def log_events():
    """Every Twisted log event emitted during the test."""
    events = []
    globalLogPublisher.addObserver(events.append)
    yield events
    globalLogPublisher.removeObserver(events.append)


@pytest.fixture(scope="module")
def browser():
    """A real headless Chromium (the distribution's, driven by Playwright),
    shared by a module's tests; skipped where there is none, except in CI."""
    from test_web_app import chromium, require_chromium

    require_chromium()
    with chromium() as instance:
        yield instance
