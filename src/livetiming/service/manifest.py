"""The service manifest (payload of SERVICE_REGISTRATION, protocol.md §4)."""
from typing import Optional, Sequence

from ..protocol import colspec_to_json
from ..version import VERSION


def build_manifest(
    *,
    uuid: str,
    name: str,
    service_class: str,
    description: str,
    colspec: Sequence,
    track_data_spec: Sequence[str] = (),
    poll_interval: float = 10,
    has_analysis: bool = True,
    hidden: bool = False,
    plugin_version: str = "unknown",
    attribution: Optional[Sequence] = None,
    do_not_record: bool = False,
    core_version: str = VERSION,
) -> dict:
    """Key order follows the reference so that files compare naturally."""
    manifest = {
        "uuid": uuid,
        "name": name,
        "serviceClass": service_class,
        "description": description,
        "colSpec": colspec_to_json(colspec),
        "trackDataSpec": list(track_data_spec),
        "pollInterval": max(1, poll_interval),
        "hasAnalysis": bool(has_analysis),
        "hidden": bool(hidden),
        "livetimingVersion": {"core": core_version, "plugin": plugin_version},
    }
    if attribution:
        manifest["source"] = list(attribution)
    if do_not_record:
        manifest["doNotRecord"] = True
    return manifest
