"""Command-line behaviour: clear one-line errors and exit code 2 for usage mistakes."""
import socket
import subprocess

import pytest

from plugin_runner import command as plugin_command
from plugin_runner import plugin_file
from processes import command


def run(*args, env=None, timeout=60):
    import os
    return subprocess.run([command("livetiming-service"), *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def assert_usage_error(result, text):
    assert result.returncode == 2, result.stderr
    assert text in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_unknown_plugin_is_one_clear_line(service_env):
    result = run("no_such_plugin")
    assert_usage_error(result, "Unknown plugin 'no_such_plugin'")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "demo" in result.stderr  # lists what is installed


def test_no_plugin_prints_usage(service_env):
    assert_usage_error(run(), "usage: livetiming-service")


def test_help_lists_core_and_plugin_options(service_env):
    result = run("demo", "--help")
    assert result.returncode == 0
    for option in ("--description", "--disable-analysis", "--hidden", "--do-not-record", "--masquerade",
                   "--recording-file", "--initial-state", "--verbose", "--standalone", "--no-write-state",
                   "--uuid", "--debug", "--cars", "--seed", "--speed"):
        assert option in result.stdout


@pytest.mark.parametrize("args, text", [
    (["demo", "--cars", "5"], "must be between 20 and 60"),
    (["demo", "--speed", "-1"], "must be positive"),
    (["demo", "--bogus"], "unrecognized arguments: --bogus"),
    (["demo", "--uuid", "bad.uuid"], "invalid uuid"),
    (["demo", "--uuid", "abc", "-s", "x.json"], "--uuid and -s/--initial-state"),
    (["demo", "-s", "/nonexistent/state.json"], "does not exist"),
])
def test_usage_errors_exit_2(service_env, args, text):
    assert_usage_error(run(*args), text)


def test_bad_port_setting_is_a_usage_error(service_env):
    assert_usage_error(run("demo", env={"LIVETIMING_STANDALONE_PORT": "eighty"}), "not a port number")


def test_port_in_use_is_a_clear_error(service_env):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = run("demo", env={"LIVETIMING_STANDALONE_PORT": str(busy.getsockname()[1])})
    assert result.returncode == 1
    assert "cannot listen on port" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args, env, text", [
    (["demo"], {"LIVETIMING_STANDALONE_PORT": "70000"}, "between 0 and 65535"),
    (["demo", "-s", "/tmp/race 1.json"], {}, "the file's name is the service uuid"),
    (["demo"], {"LIVETIMING_ROUTER": "ws://127.0.0.1:9/ws", "LIVETIMING_SHARED_SECRET": ""},
     "LIVETIMING_SHARED_SECRET is not"),
])
def test_environment_mistakes_exit_2_before_the_plugin_starts(service_env, tmp_path, args, env, text):
    (tmp_path / "a-file").write_text("")
    env = {**env, "LIVETIMING_ANALYSIS_DIR": str(tmp_path / "analysis")}
    assert_usage_error(run(*args, env=env), text)


def test_an_unusable_data_directory_exits_2(service_env, tmp_path):
    (tmp_path / "a-file").write_text("")
    assert_usage_error(run("demo", env={"LIVETIMING_ANALYSIS_DIR": str(tmp_path / "a-file" / "x")}),
                       "LIVETIMING_ANALYSIS_DIR cannot be used")


@pytest.mark.parametrize("url, text", [
    ("ws://127.0.0.1:99999/ws", "Port out of range"),
    ("ws://[::1/ws", "Invalid IPv6 URL"),
    ("rs://127.0.0.1:99999", "Port out of range"),
    ("ws://127.0.0.1:0/ws", "invalid port 0"),
    ("ws://timing example/ws", "contains white space"),
])
def test_a_malformed_router_url_is_one_line_and_exit_2(service_env, url, text):
    result = run("demo", env={"LIVETIMING_ROUTER": url, "LIVETIMING_SHARED_SECRET": "x"})
    assert_usage_error(result, text)
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_recording_file_that_is_a_directory_exits_2_at_start(service_env, tmp_path):
    (tmp_path / "recordings").mkdir()
    result = run("demo", "-r", str(tmp_path / "recordings"))
    assert_usage_error(result, "is a directory; name the file to write")
    assert list((tmp_path / "recordings").iterdir()) == []
    assert not (tmp_path / "recordings.inprogress").exists()


@pytest.mark.parametrize("hook, returns, text", [
    ("getPollInterval", '"5"', "getPollInterval() returned '5' (str); it must return a positive number of seconds"),
    ("getPollInterval", "0", "getPollInterval() returned 0 (int)"),
    ("getPollInterval", "-2.5", "getPollInterval() returned -2.5 (float)"),
    ("getPollInterval", 'float("nan")', "getPollInterval() returned nan (float)"),
    ("getPollInterval", "True", "getPollInterval() returned True (bool)"),
    ("getName", "None", "getName() returned None (NoneType); it must return a string"),
    ("getColumnSpec", '"NUM"', "getColumnSpec() returned 'NUM' (str); it must return a list"),
    ("getTrackDataSpec", "[1, 2]", "getTrackDataSpec() returned [1, 2] (list); it must return a list of strings"),
    ("getExtraMessageGenerators", '["not a generator"]', "getExtraMessageGenerators() holds 'not a generator'"),
])
def test_a_plugin_hook_returning_the_wrong_type_exits_2_naming_it(service_env, tmp_path, hook, returns, text):
    plugin = plugin_file(tmp_path, "badhook", f"def {hook}(self):\n    return {returns}\n")
    result = subprocess.run(plugin_command(plugin), capture_output=True, text=True, timeout=60)
    assert_usage_error(result, f"plugin 'badhook': {text}")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_hook_that_cannot_answer_before_data_arrives_is_not_an_error(processes, service_env, tmp_path):
    plugin = plugin_file(tmp_path, "latedata", "def getName(self):\n    return self.upstream['name']\n")
    process = processes(plugin_command(plugin))
    process.wait_for(r"listening on port:\d+", stream="stderr")


@pytest.mark.parametrize("value, text", [("lots", "not a number of bytes"), ("0", "must be a positive number")])
def test_a_bad_standalone_buffer_limit_is_a_usage_error(service_env, value, text):
    assert_usage_error(run("demo", env={"LIVETIMING_STANDALONE_MAX_BUFFER": value}), text)


def test_a_log_file_that_cannot_be_written_exits_2(service_env, tmp_path):
    (tmp_path / "logs" / "demo.log").mkdir(parents=True)
    assert_usage_error(run("demo"), "cannot write the log file in LIVETIMING_LOG_DIR: Is a directory")


def test_H_is_hidden_for_the_service_and_human_for_the_plugin_list(service_env, capsys):
    """The two commands share no options: `livetiming-service -H` hides the
    service, `livetiming-plugins -H` (also `-u`, `--human`) is for people."""
    from livetiming.cli.plugins import main as plugins_main
    from livetiming.service.options import default_args

    assert default_args("demo", ["-H"]).hidden and not default_args("demo").hidden
    assert "-H, --hidden" in run("demo", "--help").stdout
    outputs = []
    for option in ("-H", "-u", "--human"):
        assert plugins_main([option]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] == outputs[2] and outputs[0].startswith("demo ")
    assert plugins_main([]) == 0
    assert capsys.readouterr().out.lstrip().startswith("[")
