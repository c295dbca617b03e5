"""The live analyser's shell (service/live_analysis.py): requestAnalysisData
answers from a snapshot computed at most once per change."""
from twisted.internet import defer
from twisted.internet.task import Clock

from livetiming.protocol import Stat
from livetiming.service.live_analysis import LiveAnalysis
from livetiming.service.manifest import build_manifest

MANIFEST = build_manifest(uuid="u", name="n", service_class="c", description="d",
                          colspec=[Stat.NUM, Stat.STATE, Stat.DRIVER])


def state(driver):
    return {"cars": [["7", "RUN", driver]], "session": {"flagState": "green"}, "messages": [], "highlight": []}


def result_of(d):
    results = []
    d.addBoth(results.append)
    assert results, "not fired"
    return results[0]


class CountingAnalysis(LiveAnalysis):
    """Counts the v1 dicts computed; `hold` keeps the analyser's "thread" busy."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.computed = 0
        self.hold = None
        real = self.analyser.data

        def counted():
            self.computed += 1
            return real()
        self.analyser.data = counted

    def _run(self, function, *args):
        if self.hold is not None and function == self.analyser.data:
            return self.hold.addCallback(lambda _: function(*args))
        return super()._run(function, *args)


def analysis():
    return CountingAnalysis("u", MANIFEST, lambda topic, message: None, Clock())


def test_many_calls_between_two_updates_compute_the_dict_once():
    live = analysis()
    live.submit(state("Ann"), [], 1)
    answers = [result_of(live.data()) for _ in range(1000)]
    assert live.computed == 1 and all(answer is answers[0] for answer in answers)
    assert answers[0]["driver"] == {"7": ["Ann"]}


def test_an_update_makes_the_next_call_compute_a_new_snapshot():
    live = analysis()
    live.submit(state("Ann"), [], 1)
    first = result_of(live.data())
    live.submit(state("Bob"), [], 2)
    second = result_of(live.data())
    assert live.computed == 2 and second["driver"] == {"7": ["Ann", "Bob"]}
    assert first["driver"] == {"7": ["Ann"]}  # a snapshot given out never changes


def test_calls_while_a_snapshot_is_being_computed_share_it():
    live = analysis()
    live.submit(state("Ann"), [], 1)
    live.hold = defer.Deferred()
    waiting = [live.data() for _ in range(50)]
    assert not any(d.called for d in waiting)
    live.hold.callback(None)
    live.hold = None
    assert live.computed == 1 and len({id(result_of(d)) for d in waiting}) == 1


def test_a_failed_snapshot_fails_its_callers_and_the_next_call_tries_again():
    live = analysis()
    live.hold = defer.Deferred()
    waiting = [live.data(), live.data()]
    live.hold.errback(RuntimeError("analyser broke"))
    live.hold = None
    for d in waiting:
        assert result_of(d).check(RuntimeError)
    assert result_of(live.data())["static"] == {}
