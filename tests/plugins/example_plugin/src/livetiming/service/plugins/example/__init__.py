"""Test fixture written only against the historical plugin API, in the shape
of the public livetiming-plugin-example: a polled JSON feed, fetched with a
bytes URL, published from the fetcher's callback (auto_poll off), start()
chained to super().start() with work after it (at shutdown)."""
import os

from livetiming.messages import TimingMessage
from livetiming.racing import FlagStatus, Stat
from livetiming.service import BaseService, JSONFetcher

__version__ = "1.2.3"


class SessionChangeMessage(TimingMessage):
    """An old-style generator: `_consider(oldState, newState)`."""

    def _consider(self, oldState, newState):
        old = oldState.get("session", {}).get("name")
        new = newState.get("session", {}).get("name")
        if old and new and old != new:
            return ["Session", "Session is now {}".format(new), "track"]
        return None


class Service(BaseService):
    """Example timing (historical API fixture)."""

    auto_poll = False
    attribution = ["Example Timing Ltd", "https://timing.example/"]

    def __init__(self, args, extra_args):
        super(Service, self).__init__(args, extra_args)
        self._data = None
        # URLs passed to fetchers must be bytes
        url = os.environ["EXAMPLE_PLUGIN_URL"].encode("utf-8")
        self._fetcher = JSONFetcher(url, self._handleData, 1)

    def start(self):
        self._fetcher.start()
        super(Service, self).start()
        # The historical start() returned at shutdown: this runs then.
        marker = os.environ.get("EXAMPLE_PLUGIN_SHUTDOWN_MARKER")
        if marker:
            with open(marker, "w") as f:
                f.write("stopped {}".format(self.uuid))

    def _handleData(self, data):
        self._data = data
        self._updateAndPublishRaceState()

    def getName(self):
        return "Example"

    def getDefaultDescription(self):
        return "Example series, {}".format(self._data["session"] if self._data else "no session")

    def getVersion(self):
        return __version__

    def getPollInterval(self):
        return 1

    def getColumnSpec(self):
        return [Stat.NUM, Stat.STATE, Stat.DRIVER, Stat.LAPS, Stat.LAST_LAP]

    def getExtraMessageGenerators(self):
        return [SessionChangeMessage()]

    def getRaceState(self):
        if not self._data:
            return {"cars": [], "session": {"flagState": "none"}}
        cars = [[car["num"], car["state"], car["driver"], car["laps"], [car["last"], ""]]
                for car in self._data["cars"]]
        flag = FlagStatus.fromString(self._data["flag"])
        return {
            "cars": cars,
            "session": {"flagState": flag.name.lower(), "timeElapsed": 0, "name": self._data["session"]},
        }
