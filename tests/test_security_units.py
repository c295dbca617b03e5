"""Pure parts of the router's security and supervision: the uuid binding,
the per-service authorization rules, the roles' static permissions, the
restart back-off and the interval check."""
import math
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from livetiming.cli.component import authentication_for
from livetiming.orchestration import identity
from livetiming.orchestration.authorizer import authorize
from livetiming.orchestration.permissions import (
    ADMIN,
    ANONYMOUS,
    AUTHORIZE,
    COMPONENTS,
    authorize_service,
    realm_roles,
)
from livetiming.orchestration.settings import SettingError, positive_seconds
from livetiming.orchestration.supervisor import ChildRecord, describe_exit

OWN = "services@abc"


def test_binding_an_auth_id_to_a_uuid():
    assert identity.bind("services", "abc") == OWN
    assert identity.bound_uuid(OWN) == "abc"
    assert identity.bound_uuid("partner@team@abc") == "abc"
    for unbound in (None, 5, "services", "services@", "services@a.b", "x@" + "a" * 65):
        assert identity.bound_uuid(unbound) is None
    assert identity.announced_uuid({"uuid": "A-b_9"}) == "A-b_9"
    for bad in (None, {}, {"uuid": 5}, {"uuid": "a.b"}, {"uuid": "a@b"}, {"uuid": "a:1"}, {"uuid": ""},
                {"uuid": "a" * 65}, "uuid"):
        with pytest.raises(identity.IdentityError):
            identity.announced_uuid(bad)


def test_publisher_is_the_last_hop_of_forward_for():
    assert identity.publisher_authid(SimpleNamespace(publisher_authid=OWN, forward_for=None)) == OWN
    forged = SimpleNamespace(publisher_authid="services@victim",
                             forward_for=[{"authid": "services@victim"}, {"authid": OWN}])
    assert identity.publisher_authid(forged) == OWN
    assert identity.speaks_for(forged, "abc") and not identity.speaks_for(forged, "victim")
    assert not identity.speaks_for(None, "abc") and not identity.speaks_for(forged, None)


@pytest.mark.parametrize("uri, action, allowed, cached", [
    ("livetiming.service.abc", "publish", True, False),
    ("livetiming.service.other", "publish", False, False),
    ("livetiming.analysis/abc/static", "publish", True, False),
    ("livetiming.analysis/abc/lap/12", "publish", True, False),
    ("livetiming.analysis/other/static", "publish", False, False),
    ("livetiming.analysis/abc", "publish", False, True),
    ("livetiming.service.isAlive.abc", "register", True, False),
    ("livetiming.service.requestState.abc", "register", True, False),
    ("livetiming.service.requestAnalysisData.abc", "register", True, False),
    ("livetiming.service.requestState.other", "register", False, False),
    ("livetiming.service.requestState.abc.x", "register", False, True),
    ("livetiming.directory.listServices", "register", False, True),
    (AUTHORIZE, "register", False, True),
    ("livetiming.directory", "publish", False, True),
    ("livetiming.service.a.b", "publish", False, True),
    ("livetiming.control", "subscribe", True, True),
    ("livetiming.", "subscribe", True, True),
    ("", "subscribe", False, True),
    ("wamp.session.on_join", "subscribe", False, True),
    ("livetiming.service.requestState.other", "call", True, True),
    ("livetiming.service.isAlive.other", "call", True, True),
    ("livetiming.relays.report", "call", False, True),
    ("livetiming.relays.list", "call", True, True),
    ("livetiming.recordings.page", "call", True, True),
    ("wamp.session.kill", "call", False, True),
    (AUTHORIZE, "call", False, True),
])
def test_a_service_acts_only_as_itself(uri, action, allowed, cached):
    decision = authorize_service(OWN, uri, action)
    assert (decision.allow, decision.cache) == (allowed, cached)


def test_control_is_open_to_services_and_disclosed():
    assert authorize_service(OWN, "livetiming.control", "publish").as_dict() == {
        "allow": True, "cache": True, "disclose": True}


def test_an_unbound_session_owns_nothing():
    assert not authorize_service("services", "livetiming.service.abc", "publish").allow
    assert not authorize_service(None, "livetiming.service.isAlive.abc", "register").allow


def test_authorizer_takes_crossbars_session_details():
    assert authorize({"authid": OWN, "authrole": "services"}, "livetiming.service.abc", "publish", {})["allow"]
    assert not authorize("not a dict", "livetiming.service.abc", "publish", {})["allow"]


def test_static_roles():
    roles = {role["name"]: role for role in realm_roles()}
    public = {(p["uri"], p["match"]): p["allow"] for p in roles[ANONYMOUS]["permissions"]}
    assert not any(allow["publish"] or allow["register"] for allow in public.values())
    assert public[("livetiming.", "prefix")] == {"call": False, "register": False, "publish": False,
                                                 "subscribe": True}
    assert public[("livetiming.service.requestState.", "prefix")]["call"]
    assert ("", "prefix") not in public and ("livetiming.authenticate", "exact") not in public
    components = {p["uri"]: p["allow"] for p in roles[COMPONENTS]["permissions"]}
    assert not any(components[AUTHORIZE].values())
    assert roles[ADMIN]["permissions"][0]["uri"] == ""
    assert roles["services"] == {"name": "services", "authorizer": AUTHORIZE}


def test_restart_back_off_grows_then_starts_over():
    record = ChildRecord("dvr")
    delays = []
    for now in range(5):
        record.started(float(now))
        delays.append(record.exited(now + 0.1))
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0]
    record.started(100.0)
    assert record.exited(130.0) == 0.5  # ran 30 s: a fresh failure
    for _ in range(10):
        record.started(0.0)
        delay = record.exited(0.0)
    assert delay == 10.0


def test_exit_descriptions():
    assert describe_exit(SimpleNamespace(signal=9, exitCode=None)) == "signal 9 (SIGKILL)"
    assert describe_exit(SimpleNamespace(signal=None, exitCode=3)) == "exit code 3"


@pytest.mark.parametrize("value", [0, -5, "nan", "inf", "ten", None, 0.05, math.nan])
def test_intervals_must_be_positive_numbers(value):
    with pytest.raises(SettingError):
        positive_seconds(value, "X")


def test_intervals():
    assert positive_seconds("0.5", "X") == 0.5 and positive_seconds(10, "X") == 10.0


def test_standalone_components_authenticate_by_socket_or_secret():
    unix = {"endpoint": {"type": "unix", "path": "/x/components.sock"}}
    tcp = {"url": "ws://h/ws"}
    assert authentication_for(unix, "services", None) == {"anonymous": {}}
    assert authentication_for(unix, "services", "s") == {"anonymous": {}}
    assert authentication_for(tcp, "dvr", "s") == {"wampcra": {"authid": "dvr", "secret": "s"}}
    assert list(authentication_for(unix, "dvr", "s")) == ["wampcra", "anonymous"]
    assert authentication_for(tcp, "services", None) is None
    assert authentication_for(tcp, "services", "s") is None  # a services auth id is bound to one service


def test_orphans_usage_and_exec():
    run = [sys.executable, "-m", "livetiming.orchestration.orphans"]
    usage = subprocess.run([*run, "x"], capture_output=True, text=True, timeout=30)
    assert usage.returncode == 2 and "usage" in usage.stderr
    ok = subprocess.run([*run, str(os.getpid()), "--", sys.executable, "-c", "print('ran')"],
                        capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0 and ok.stdout.strip() == "ran"
    orphan = subprocess.run([*run, "1", "--", sys.executable, "-c", "print('ran')"], capture_output=True,
                            text=True, timeout=30)
    assert orphan.returncode == 1 and "ran" not in orphan.stdout  # its parent is not pid 1: do not start
