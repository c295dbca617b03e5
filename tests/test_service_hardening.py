"""Plain mistakes and failing disks, in real `livetiming-service` processes:
one clear line each, no tracebacks, and the service keeps going."""
import json
import sys

import websocket

from plugin_runner import command as plugin_command
from plugin_runner import plugin_file
from processes import command

STARTUP = r"listening on port:(\d+)"

COUNTING = '''
def getRaceState(self):
    self.polls = getattr(self, "polls", 0) + 1
    self.log.info("poll {n}", n=self.polls)
    return self.race_state()
'''
"""Plugin methods that log every poll, so tests can await the n-th one."""


def test_a_state_that_contains_itself_is_one_error_line_per_problem(processes, service_env, tmp_path):
    plugin = plugin_file(tmp_path, "selfref", COUNTING + '''
def race_state(self):
    state = {"cars": [["1", "RUN"]], "session": {"flagState": "green"}}
    state["session"]["parent"] = state
    return state
''')
    service = processes(plugin_command(plugin, "-v"))
    service.wait_for(r"poll 4$", stream="stdout", timeout=30)
    output = "\n".join(service.output)
    errors = [line for line in service.output if "Plugin state not published" in line]
    assert len(errors) == 1, output
    assert ("state['session']['parent']['session'] is the enclosing dict itself (the state contains itself)"
            in errors[0])
    assert "Traceback" not in output and "RecursionError" not in output


def test_a_slow_get_race_state_is_warned_about_naming_the_plugin(processes, service_env, tmp_path):
    plugin = plugin_file(tmp_path, "slowpoll", COUNTING + '''
def race_state(self):
    import time
    time.sleep(1.2)  # a plugin that fetches synchronously
    return {"cars": [], "session": {"flagState": "green"}}
''')
    service = processes(plugin_command(plugin, "-v"))
    line = service.wait_for(r"#warn\] (getRaceState\(\) of plugin slowpoll blocked the service for [\d.]+s)",
                            stream="stdout", timeout=30)
    assert "fetch upstream data asynchronously" in line.string


def test_a_state_file_that_cannot_be_written_is_one_warning_not_a_traceback_per_update(
        processes, service_env, tmp_path):
    (tmp_path / "state" / "stuck.json").mkdir(parents=True)  # every save fails: "Is a directory"
    plugin = plugin_file(tmp_path, "diskfull", COUNTING + '''
def race_state(self):
    return {"cars": [["1", "RUN"]], "session": {"flagState": "green"}}
''')
    service = processes(plugin_command(plugin, "-v", "--uuid", "stuck"))
    service.wait_for(r"poll 5$", stream="stdout", timeout=30)
    warnings = [line for line in service.output if "Could not write the state" in line]
    assert len(warnings) == 1 and "stuck.json: Is a directory" in warnings[0]
    assert "Traceback" not in "\n".join(service.output)


UMASK_0 = "import os, sys; os.umask(0); os.execv(sys.argv[1], sys.argv[1:])"


def test_files_and_directories_are_not_world_writable_even_with_umask_0(processes, tmp_path):
    data = tmp_path / "data"
    env = {"LIVETIMING_STATE_DIR": str(data / "state"), "LIVETIMING_LOG_DIR": str(data / "logs"),
           "LIVETIMING_ANALYSIS_DIR": str(data / "analysis"), "LIVETIMING_ROUTER": "", "SENTRY_DSN": ""}
    service = processes([sys.executable, "-c", UMASK_0, command("livetiming-service"), "demo", "--uuid", "modes"],
                        env=env)
    port = int(service.wait_for(STARTUP, stream="stderr").group(1))
    client = websocket.create_connection(f"ws://127.0.0.1:{port}/", timeout=20)
    try:  # the second state received was saved before it was published
        states = 0
        while states < 2:
            topic, _ = json.loads(client.recv())
            states += topic == "livetiming.service.modes"
    finally:
        client.close()
    service.signal()
    assert service.wait() == 0
    modes = {path.relative_to(tmp_path).as_posix(): path.stat().st_mode & 0o777
             for path in (data, data / "state", data / "logs", data / "analysis", data / "state" / "modes.json",
                          data / "logs" / "demo.log")}
    assert modes == {"data": 0o755, "data/state": 0o755, "data/logs": 0o755, "data/analysis": 0o755,
                     "data/state/modes.json": 0o644, "data/logs/demo.log": 0o640}
