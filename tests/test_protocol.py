import pytest

from livetiming.protocol import (
    RPC,
    Channel,
    FlagStatus,
    MalformedMessageError,
    Message,
    MessageClass,
    Realm,
    Stat,
    colspec_to_json,
)


def test_message_classes_match_the_spec():
    assert {m.name: m.value for m in MessageClass} == {
        "INITIALISE_DIRECTORY": 1, "SERVICE_REGISTRATION": 2, "SERVICE_DEREGISTRATION": 3, "SERVICE_DATA": 4,
        "DIRECTORY_LISTING": 5, "SCHEDULE_LISTING": 6, "ANALYSIS_DATA": 7, "SERVICE_DATA_COMPRESSED": 8,
        "ANALYSIS_DATA_COMPRESSED": 9, "RECORDING_LISTING": 10,
    }


def test_topics_and_procedures():
    assert Realm.TIMING == "timing"
    assert Channel.CONTROL == "livetiming.control"
    assert Channel.DIRECTORY == "livetiming.directory"
    assert Channel.SCHEDULER == "livetiming.scheduler"
    assert Channel.RECORDING == "livetiming.replay"
    assert Channel.STATE_PUBLISH.format("abc") == "livetiming.service.abc"
    assert Channel.ANALYSIS_PUBLISH.format("abc", "lap/7") == "livetiming.analysis/abc/lap/7"
    assert RPC.LIVENESS_CHECK.format("u") == "livetiming.service.isAlive.u"
    assert RPC.REQUEST_STATE.format("u") == "livetiming.service.requestState.u"
    assert RPC.REQUEST_ANALYSIS_MANIFEST.format("u") == "livetiming.service.requestAnalysisManifest.u"
    assert RPC.REQUEST_ANALYSIS_DATA.format("u") == "livetiming.service.requestAnalysisData.u"
    assert RPC.REQUEST_ANALYSIS_CAR_LIST.format("u") == "livetiming.service.requestAnalysisCarList.u"
    assert RPC.DIRECTORY_LISTING == RPC.GET_DIRECTORY_LISTING == "livetiming.directory.listServices"
    assert RPC.RECORDING_LISTING == "livetiming.directory.listRecordings"
    assert RPC.SCHEDULE_LISTING == "livetiming.schedule.list"
    assert RPC.GET_RECORDINGS_PAGE == "livetiming.recordings.page"
    assert RPC.GET_RECORDINGS_NAMES == "livetiming.recordings.names"
    assert RPC.GET_RECORDINGS_MANIFEST == "livetiming.recordings.manifest"
    assert RPC.UPDATE_RECORDING_MANIFEST == "livetiming.recordings.updateManifest"


def test_flag_status_values_and_parsing():
    assert [f.value for f in FlagStatus] == list(range(13))
    assert FlagStatus.SC > FlagStatus.YELLOW > FlagStatus.CHEQUERED
    assert FlagStatus.from_string("code_60") is FlagStatus.CODE_60
    assert FlagStatus.from_string("Fcy") is FlagStatus.FCY
    assert FlagStatus.SLOW_ZONE.to_string() == "slow_zone"
    with pytest.raises(ValueError):
        FlagStatus.from_string("purple")
    assert FlagStatus.parse("purple") is FlagStatus.NONE
    assert FlagStatus.parse(None) is FlagStatus.NONE


def test_stat_lists_as_in_a_manifest():
    assert Stat.NUM.to_list() == ["Num", "text", "Car number"]
    assert Stat.STATE.to_list() == ["State", "text"]
    assert Stat.CLASS.to_list() == ["Class", "class"]
    assert Stat.POS_IN_CLASS.to_list() == ["PIC", "numeric", "Position in class"]
    assert Stat.NO_TOW_SPEED.to_list() == ["NTS", "numeric", "No-tow speed - best speed without tow"]
    assert len(Stat) == 40
    assert colspec_to_json([Stat.NUM, ["Custom", "text", "Mine"]]) == [["Num", "text", "Car number"],
                                                                         ["Custom", "text", "Mine"]]


def test_stat_lookup_helpers():
    assert Stat.from_title("Last") is Stat.LAST_LAP
    assert Stat.from_title("Lap") is Stat.LAPS
    assert Stat.sector(2) is Stat.S2 and Stat.sector(2).to_list() == ["S2", "time", "Sector 2 time"]
    assert Stat.best_sector(5) is Stat.BS5
    with pytest.raises(KeyError):
        Stat.from_title("Nope")


def test_parse_colspec_keeps_custom_columns():
    parsed = Stat.parse_colspec([["Num", "text", "Car number"], ["Lap", "numeric"], ["Odd", "text"], Stat.GAP])
    assert parsed == [Stat.NUM, Stat.LAPS, ["Odd", "text"], Stat.GAP]


def test_wrapper_serialise_and_parse():
    message = Message(MessageClass.SERVICE_DATA, {"a": 1}, date=1581687316123)
    assert message.serialise() == {"msgClass": 4, "date": 1581687316123, "payload": {"a": 1}}
    retained = Message(MessageClass.SERVICE_DATA_COMPRESSED, "x", date=1, retain=True).serialise()
    assert retained == {"msgClass": 8, "date": 1, "payload": "x", "retain": True}
    parsed = Message.parse(retained)
    assert parsed.msg_class is MessageClass.SERVICE_DATA_COMPRESSED and parsed.retain and parsed.payload == "x"


def test_wrapper_date_defaults_to_now_in_ms():
    import time
    before = int(time.time() * 1000)
    assert before <= Message(MessageClass.SERVICE_DATA).date <= int(time.time() * 1000)


@pytest.mark.parametrize("wrapper", [None, [], "x", {}, {"msgClass": 99}, {"msgClass": "4"},
                                     {"msgClass": 4, "date": "soon"}, {"msgClass": 4, "date": True}])
def test_malformed_wrappers_are_rejected(wrapper):
    with pytest.raises(MalformedMessageError):
        Message.parse(wrapper)


def test_topic_prefixes_and_analysis_keys_are_derived_from_one_definition():
    from livetiming.protocol import AnalysisKey, Channel
    assert Channel.STATE_PREFIX == "livetiming.service."
    assert Channel.ANALYSIS_PREFIX == "livetiming.analysis/"
    assert Channel.STATE_PUBLISH.format("u") == Channel.STATE_PREFIX + "u"
    assert Channel.ANALYSIS_PUBLISH.format("u", AnalysisKey.for_car(AnalysisKey.LAP, "7")) == \
        Channel.ANALYSIS_PREFIX + "u/lap/7"
    assert AnalysisKey.ALL == ("static", "driver", "messages", "session", "lap", "stint", "car_messages")
