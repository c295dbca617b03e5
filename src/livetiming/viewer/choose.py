"""Which service to watch, from a directory listing and what the user typed
(`--service`): its uuid (or a unique start of it), or its name (exact, any
case, else a unique part of it); with nothing typed, the only one running.
Hidden services only by their exact uuid."""
from dataclasses import dataclass
from typing import List, Mapping, Optional, Sequence

from .format import text

MIN_UUID_PREFIX = 4


@dataclass(frozen=True)
class Choice:
    """`manifest` when exactly one service fits; else the candidates to list."""

    manifest: Optional[Mapping]
    candidates: Sequence[Mapping] = ()


def choose_service(listing: Sequence[Mapping], wanted: Optional[str]) -> Choice:
    """A hidden service (in a listing asked with includeHidden) is chosen
    only by its exact uuid, as its direct link works on the web page; it is
    never listed nor matched by name."""
    known = [manifest for manifest in listing if isinstance(manifest, Mapping) and manifest.get("uuid")]
    hidden = [manifest for manifest in known if manifest.get("hidden") is True]
    if wanted and any(manifest["uuid"] == wanted.strip() for manifest in hidden):
        return Choice(next(manifest for manifest in hidden if manifest["uuid"] == wanted.strip()))
    services = [manifest for manifest in known if manifest.get("hidden") is not True]
    if not wanted:
        return Choice(services[0]) if len(services) == 1 else Choice(None, services)
    wanted = wanted.strip()
    lowered = wanted.lower()
    rules = (
        lambda m: m["uuid"] == wanted,
        lambda m: len(wanted) >= MIN_UUID_PREFIX and m["uuid"].startswith(wanted),
        lambda m: text(m.get("name")).lower() == lowered,
        lambda m: lowered in text(m.get("name")).lower(),
    )
    for rule in rules:
        matches: List[Mapping] = [manifest for manifest in services if rule(manifest)]
        if len(matches) == 1:
            return Choice(matches[0])
        if matches:
            return Choice(None, matches)
    return Choice(None, services)


def describe(services: Sequence[Mapping]) -> List[str]:
    """One line per service: `uuid  name - description`."""
    return [f"{text(m.get('uuid'))}  {text(m.get('name'))}"
            + (f" - {text(m.get('description'))}" if m.get("description") else "") for m in services]
