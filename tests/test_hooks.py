"""What plugin hooks must return (service/hooks.py)."""
import math

import pytest
from twisted.internet.task import Clock

from livetiming.protocol import Stat
from livetiming.service import hooks
from livetiming.service.base import BaseService
from livetiming.service.messages import MessageGenerator
from livetiming.service.options import default_args


@pytest.mark.parametrize("value", [1, 0.5, 10, 3600.0])
def test_good_poll_intervals_are_returned_unchanged(value):
    assert hooks.poll_interval(value) is value


@pytest.mark.parametrize("value", ["5", 0, -1, math.nan, math.inf, True, None, [5]])
def test_bad_poll_intervals_name_the_hook_and_the_value(value):
    with pytest.raises(hooks.PluginHookError) as error:
        hooks.poll_interval(value)
    assert str(error.value).startswith(f"getPollInterval() returned {value!r} ({type(value).__name__})")


def test_column_specs():
    assert hooks.column_spec("getColumnSpec", [Stat.NUM, ["Tyre", "text"], ("Pit", "text", "Pit stops")])
    with pytest.raises(hooks.PluginHookError, match=r"getColumnSpec\(\) item 1 is 'Num'"):
        hooks.column_spec("getColumnSpec", [Stat.NUM, "Num"])
    with pytest.raises(hooks.PluginHookError, match=r"item 0 is \['Num'\]"):
        hooks.column_spec("getColumnSpec", [["Num"]])


def test_long_values_are_shortened_in_the_message():
    with pytest.raises(hooks.PluginHookError) as error:
        hooks.text("getName", list(range(1000)))
    assert len(str(error.value)) < 140


def test_message_generators():
    assert hooks.message_generators(None) == []
    generator = MessageGenerator()
    assert hooks.message_generators((generator,)) == [generator]
    with pytest.raises(hooks.PluginHookError, match="has no process"):
        hooks.message_generators([object()])
    with pytest.raises(hooks.PluginHookError, match=r"returned <livetiming.service.messages.MessageGenerator object"):
        hooks.message_generators(generator)


@pytest.mark.parametrize("value", ["Provider", ["Provider", 7], [None, "https://x/"], [], ["a", "b", "c"]])
def test_bad_attributions(value):
    with pytest.raises(hooks.PluginHookError, match="attribution"):
        hooks.attribution(value)


class Plugin(BaseService):
    def getName(self):
        return self.upstream["name"]  # not fetched yet at start-up

    def getColumnSpec(self):
        return [Stat.NUM]

    def getRaceState(self):
        return {}


def test_check_plugin_skips_hooks_that_cannot_answer_yet(service_env):
    hooks.check_plugin(Plugin(default_args("hooktest"), reactor=Clock()))


def test_check_plugin_reports_the_first_wrong_answer(service_env):
    service = Plugin(default_args("hooktest"), reactor=Clock())
    service.getTrackDataSpec = lambda: "Air"
    with pytest.raises(hooks.PluginHookError, match=r"getTrackDataSpec\(\) returned 'Air'"):
        hooks.check_plugin(service)


def test_check_plugin_builds_the_generators_once(service_env):
    calls = []
    service = Plugin(default_args("hooktest"), reactor=Clock())
    service.getExtraMessageGenerators = lambda: calls.append(1) or [MessageGenerator()]
    hooks.check_plugin(service)
    assert len(service.generators) > 1 and calls == [1]
