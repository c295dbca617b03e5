"""Test fixture written only against the historical plugin API, in the shape
of third-party plugins: DuePublisher before BaseService, a MultiLineFetcher,
its own argparse over extra_args, a PerCarMessage with _consider, race
control from a deque, FlagStatus.fromString and self.http_client (treq)."""
import argparse
from collections import deque

import treq

from livetiming.messages import CAR_NUMBER_REGEX, PerCarMessage, RaceControlMessage
from livetiming.network import Channel, Message, MessageClass
from livetiming.racing import FlagStatus, Stat
from livetiming.service import BaseService, DuePublisher, MultiLineFetcher, Watchdog

__version__ = "2025.3.1"


def parse_extra_args(extra_args):
    parser = argparse.ArgumentParser("thirdparty")
    parser.add_argument("--url", required=True, help="feed base URL")
    parser.add_argument("--series", default="Third Party Cup")
    return parser.parse_args(extra_args)


class TyreChangeMessage(PerCarMessage):
    def _consider(self, oldCar, newCar):
        old_tyre = self.getValue(oldCar, Stat.TYRE)
        new_tyre = self.getValue(newCar, Stat.TYRE)
        if old_tyre and new_tyre and old_tyre != new_tyre:
            num = self.getValue(newCar, Stat.NUM)
            return ["Tyres", "#{} changed tyres to {}".format(num, new_tyre), "pit", num]
        return None


class Service(DuePublisher, BaseService):
    """Third Party Cup timing (historical API fixture)."""

    attribution = ["Third Party Timing", None]

    def __init__(self, args, extra_args):
        super(Service, self).__init__(args, extra_args)
        self.my_args = parse_extra_args(extra_args)
        self.cars = []
        self.flag = FlagStatus.NONE
        self.description = None
        self.seen_rc = set()
        self.rc_queue = deque()
        self.fetcher = MultiLineFetcher(lambda: (self.my_args.url + "/feed.txt").encode(), self.handle_lines, 1)
        self.watchdog = Watchdog(120, self.log.warn, "No data for two minutes")

    def start(self):
        self.fetcher.start()
        self.watchdog.start()
        d = self.http_client.get(self.my_args.url + "/session.json")
        d.addCallback(treq.json_content)
        d.addCallback(self.got_session)
        d.addErrback(lambda failure: self.log.failure("No session info", failure))
        super(Service, self).start()

    def got_session(self, info):
        self.description = info["description"]
        self.publishManifest()
        published = self.publish(
            Channel.CONTROL,
            Message(MessageClass.SERVICE_REGISTRATION, self._createServiceManifest()).serialise(),
        )
        self.log.info("Session info published: {published}", published=published)

    def handle_lines(self, lines):
        self.watchdog.notify()
        cars = []
        for line in lines:
            parts = line.split("|")
            if parts[0] == "FLAG":
                self.flag = FlagStatus.fromString(parts[1])
            elif parts[0] == "CAR":
                num, state, driver, laps, tyre = parts[1:6]
                cars.append([num, state, driver, int(laps), tyre])
            elif parts[0] == "RC" and parts[1] not in self.seen_rc:
                self.seen_rc.add(parts[1])
                if CAR_NUMBER_REGEX.search(parts[1]):
                    self.log.info("Race control names a car: {text}", text=parts[1])
                self.rc_queue.appendleft(parts[1])
        self.cars = cars
        self.set_due_publish()

    def getName(self):
        return self.my_args.series

    def getDefaultDescription(self):
        return self.description or "Waiting for session"

    def getColumnSpec(self):
        return [Stat.NUM, Stat.STATE, Stat.DRIVER, Stat.LAPS, Stat.TYRE]

    def getExtraMessageGenerators(self):
        return [TyreChangeMessage(self.getColumnSpec()), RaceControlMessage(self.rc_queue)]

    def getRaceState(self):
        return {"cars": self.cars, "session": {"flagState": self.flag.name.lower(), "timeElapsed": 0}}
