"""Configuration (livetiming.env), logging and Sentry wiring."""
import os

import pytest
from twisted.python.failure import Failure

from livetiming import config, observability


def test_env_file_in_a_parent_directory_is_read_and_real_variables_win(tmp_path, monkeypatch):
    (tmp_path / "livetiming.env").write_text("LIVETIMING_TEST_A=from-file\nLIVETIMING_TEST_B=from-file\n")
    child = tmp_path / "deeper" / "still"
    child.mkdir(parents=True)
    monkeypatch.chdir(child)
    monkeypatch.delenv("LIVETIMING_TEST_A", raising=False)
    monkeypatch.setenv("LIVETIMING_TEST_B", "from-environment")
    try:
        assert config.load_env_file() == str(tmp_path / "livetiming.env")
        assert os.environ["LIVETIMING_TEST_A"] == "from-file"
        assert os.environ["LIVETIMING_TEST_B"] == "from-environment"
    finally:
        os.environ.pop("LIVETIMING_TEST_A", None)


def test_directories_default_to_the_user_data_dir_not_the_cwd(tmp_path, monkeypatch):
    monkeypatch.delenv("LIVETIMING_STATE_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert config.directory("LIVETIMING_STATE_DIR") == tmp_path / "data" / "livetiming" / "state"
    assert (tmp_path / "data" / "livetiming" / "state").is_dir()
    monkeypatch.setenv("LIVETIMING_STATE_DIR", str(tmp_path / "mine"))
    assert config.directory("LIVETIMING_STATE_DIR") == tmp_path / "mine"


def test_sentry_is_off_without_a_dsn(monkeypatch):
    import sentry_sdk
    monkeypatch.delenv("SENTRY_DSN", raising=False)
    monkeypatch.setattr(sentry_sdk, "init", lambda **kw: pytest.fail("sentry initialised without a DSN"))
    assert observability.start_sentry() is None


def test_sentry_gets_twisted_failures_when_a_dsn_is_set(monkeypatch):
    import sentry_sdk
    inits, captured = [], []
    monkeypatch.setenv("SENTRY_DSN", "https://key@sentry.invalid/1")
    monkeypatch.setenv("LIVETIMING_ENVIRONMENT", "staging")
    monkeypatch.setattr(sentry_sdk, "init", lambda **kw: inits.append(kw))
    monkeypatch.setattr(sentry_sdk, "capture_exception", captured.append)
    forward = observability.start_sentry()
    assert inits[0]["dsn"] == "https://key@sentry.invalid/1" and inits[0]["environment"] == "staging"
    try:
        raise KeyError("plugin bug")
    except KeyError:
        failure = Failure()
    forward({"log_failure": failure, "log_format": "oops"})
    forward({"log_format": "just a message"})
    assert len(captured) == 1
    exc_type, exc_value, traceback = captured[0]
    assert exc_type is KeyError and str(exc_value) == "'plugin bug'" and traceback is not None


@pytest.fixture
def umask_0():
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_log_files_are_never_world_writable_whatever_the_umask(tmp_path, umask_0):
    path = tmp_path / "demo.log"
    with observability.open_log_file(path) as stream:
        stream.write("one\n")
    assert path.stat().st_mode & 0o777 == 0o640
    path.chmod(0o666)  # left so by an older version
    with observability.open_log_file(path) as stream:
        stream.write("two\n")
    assert path.stat().st_mode & 0o777 == 0o664
    assert path.read_text() == "one\ntwo\n"


def test_data_directories_and_their_parents_are_not_world_writable(tmp_path, umask_0, monkeypatch):
    monkeypatch.setenv("LIVETIMING_STATE_DIR", str(tmp_path / "a" / "b" / "state"))
    state = config.directory("LIVETIMING_STATE_DIR")
    for path in (state, state.parent, state.parent.parent):
        assert path.stat().st_mode & 0o777 == 0o755, path
    assert config.directory("LIVETIMING_STATE_DIR") == state  # existing: fine


def test_sentry_gets_errors_logged_without_a_failure_once(monkeypatch):
    """Errors logged without an exception reach Sentry as messages; Sentry's
    own stdlib integration only keeps breadcrumbs (stdlib records arrive
    through the bridge), so nothing is reported twice."""
    import sentry_sdk
    from twisted.logger import LogLevel
    inits, messages = [], []
    monkeypatch.setenv("SENTRY_DSN", "https://key@sentry.invalid/1")
    monkeypatch.setattr(sentry_sdk, "init", lambda **kw: inits.append(kw))
    monkeypatch.setattr(sentry_sdk, "capture_message", lambda text, level: messages.append((text, level)))
    forward = observability.start_sentry()
    (logging_integration,) = inits[0]["integrations"]
    assert logging_integration._handler is None  # no stdlib events of its own
    forward({"log_format": "disk {what}", "what": "full", "log_level": LogLevel.error})
    forward({"log_format": "just a warning", "log_level": LogLevel.warn})
    assert messages == [("disk full", "error")]
