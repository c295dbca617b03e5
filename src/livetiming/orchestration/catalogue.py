"""The recordings catalogue (components.md "Recordings catalogue"): the index
of the finished recordings in LIVETIMING_RECORDINGS_DIR and the answers the
`livetiming.recordings.*` procedures give, as plain functions over plain data.
No Twisted here: `livetiming-recordings-index` calls this directly and the
WAMP shell (`catalogue_session.CatalogueSession`) runs the blocking parts in
a thread.

Files in the recordings directory:

* `<name>.zip` — a recording (protocol §7); `<name>.json` beside it its v1
  analysis file.
* `index.json` — `{uuid: entry}`, each entry exactly `description`,
  `duration`, `filename` (the ZIP's name in the directory), `name`,
  `startTime`, `uuid`, `hasAnalysis` and, only for hidden recordings,
  `hidden: true`.
* `.index-cache.json` — what the scan saw of each ZIP (size, mtime and the
  entry, or why the file is not a recording), so that unchanged files are not
  opened again. A missing or unreadable cache only costs a full re-read.

Decisions where the spec is silent:

* `page()`: 50 per page, newest first (startTime, then uuid, descending);
  `filter_name` matches names exactly (clients pick it from `names()`); a
  page out of range (below 1 or past the last) is an empty list, not an
  error, with `pages` and `total` still given; `pages` is 0 when nothing
  matches.
* Two ZIPs with the same uuid: the first by file name is indexed, the other
  is reported as invalid.
* `update_manifest()` changes only `name` (non-empty string), `description`
  (string) and `hidden` (boolean). The manifest's `uuid` selects the
  recording; keys it leaves out stay as they are; any other key must equal
  the stored value (so a client may send back the whole manifest) — a
  different `version`, `startTime` or anything else is refused and nothing
  changes. The code is checked first, so without it nothing else is revealed.
* A recording called `index.zip` never has an analysis file (it would be
  the index).

Every file here is untrusted (livetiming.untrusted): recordings are read
under its limits, so a hostile one is skipped with a one-line reason and
never stops the index being written for the others; manifests are checked
(uuid pattern, bounded name and description), so nothing huge reaches
index.json, its cache or a WAMP answer; index.json, the cache and analysis
files are read with bounded size and depth, and their entries are checked
again before use. Procedure arguments of the wrong type or size are refused
at once, and messages never echo more than a few dozen characters of them.

WAMP errors (`CatalogueError.uri`): `livetiming.error.no_such_recording`
(unknown uuid, or its file is gone), `livetiming.error.not_authorised`
(wrong, empty or unconfigured admin code), `livetiming.error.invalid_argument`
(bad page number, filter, uuid or manifest change),
`livetiming.error.invalid_recording` (the file is no longer readable).
"""
import hmac
import json
import math
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

from ..analysis.replay import analyse_recording
from ..atomic import atomic_file, write_atomically
from ..recording import RecordingError, RecordingReader
from ..recording.format import MANIFEST_NAME, encode
from ..recording.sources import ZipSource
from ..untrusted import Limits, UntrustedDataError, brief, check_manifest, check_uuid, load_json_file, one_line

INDEX_NAME = "index.json"
CACHE_NAME = ".index-cache.json"
CACHE_VERSION = 2
"""2: entries are checked manifests (a version-1 cache may hold unchecked ones)."""
PAGE_SIZE = 50
MAX_REASON = 1000
"""Characters kept of why a file is skipped (cached and shown as a warning)."""

EDITABLE_KEYS = ("name", "description", "hidden")
"""The manifest keys updateManifest may change."""

ERROR_PREFIX = "livetiming.error."
"""What the URI of every error the catalogue's procedures raise starts with."""
ERROR_NO_SUCH_RECORDING = ERROR_PREFIX + "no_such_recording"
ERROR_NOT_AUTHORISED = ERROR_PREFIX + "not_authorised"
ERROR_INVALID_ARGUMENT = ERROR_PREFIX + "invalid_argument"
ERROR_INVALID_RECORDING = ERROR_PREFIX + "invalid_recording"

Index = Dict[str, dict]
PathLike = Union[str, Path]


class CatalogueError(Exception):
    """A catalogue request that cannot be answered; `uri` is its WAMP error."""

    uri = ERROR_INVALID_ARGUMENT


class NoSuchRecordingError(CatalogueError, LookupError):
    """No recording with that uuid is in the index (or its file is gone)."""

    uri = ERROR_NO_SUCH_RECORDING


class NotAuthorisedError(CatalogueError):
    """updateManifest without the right admin code (or with none configured)."""

    uri = ERROR_NOT_AUTHORISED


class InvalidArgumentError(CatalogueError, ValueError):
    """A procedure argument of the wrong type or value."""

    uri = ERROR_INVALID_ARGUMENT


class InvalidRecordingError(CatalogueError):
    """The indexed file is no longer a readable recording."""

    uri = ERROR_INVALID_RECORDING


# ------------------------------------------------------------------ entries


def index_entry(filename: str, manifest: dict, duration: float, has_analysis: bool) -> dict:
    """The index entry of one recording (exactly the spec's keys)."""
    entry = {
        "description": manifest.get("description"),
        "duration": duration,
        "filename": filename,
        "name": manifest.get("name"),
        "startTime": manifest.get("startTime"),
        "uuid": manifest["uuid"],
        "hasAnalysis": has_analysis,
    }
    if manifest.get("hidden"):
        entry["hidden"] = True
    return entry


def analysis_path(zip_path: PathLike) -> Path:
    """`<name>.json` beside `<name>.zip` (protocol §7)."""
    return Path(zip_path).with_suffix(".json")


def has_analysis(directory: Path, filename: str) -> bool:
    """Whether the recording's analysis file exists. A recording called
    `index.zip` never has one: `index.json` is the index."""
    path = analysis_path(directory / filename)
    return path.name != INDEX_NAME and path.is_file()


def read_recording(path: Path, limits: Optional[Limits] = None) -> dict:
    """The entry of a recording file (hasAnalysis False: the caller knows).
    Raises RecordingError when the file is not a usable recording (the
    reader checks the manifest's fields, so the entry's are bounded)."""
    with RecordingReader(path, limits) as recording:
        manifest = dict(recording.manifest)
        uuid = manifest.get("uuid")
        if not isinstance(uuid, str) or not uuid:
            raise RecordingError(f"{path}: the manifest has no uuid")
        manifest["startTime"] = recording.start_time
        return index_entry(path.name, manifest, recording.duration, False)


# ------------------------------------------------------------------ scanning


@dataclass
class ScanReport:
    """What one index update found; `index` is the new index."""

    index: Index
    added: List[str] = field(default_factory=list)         # uuids new to the index
    removed: List[str] = field(default_factory=list)       # uuids gone from it
    invalid: Dict[str, str] = field(default_factory=dict)  # file name -> why it is skipped
    read: List[str] = field(default_factory=list)          # file names opened this time
    analysed: List[str] = field(default_factory=list)      # analysis files created
    analysis_failed: Dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        text = (f"{len(self.index)} recordings ({len(self.added)} added, {len(self.removed)} removed, "
                f"{len(self.invalid)} invalid)")
        if self.analysed or self.analysis_failed:
            text += f"; {len(self.analysed)} analysis files created, {len(self.analysis_failed)} failed"
        return text


def recording_files(directory: Path) -> Dict[str, os.stat_result]:
    """`*.zip` in the directory (not hidden temporary files), with their stat."""
    files = {}
    with os.scandir(directory) as entries:
        for entry in entries:
            if entry.name.endswith(".zip") and not entry.name.startswith(".") and entry.is_file():
                files[entry.name] = entry.stat()
    return files


def file_key(stat: os.stat_result) -> dict:
    """What tells an unchanged file: size and modification time."""
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def checked_entry(entry: Any, limits: Limits) -> Optional[dict]:
    """`entry` if it is a usable index entry (a dict with a uuid, a plain
    file name and manifest fields that pass the manifest checks), else None:
    index.json and the cache are files too, possibly old or tampered with."""
    if not isinstance(entry, dict):
        return None
    filename = entry.get("filename")
    if not isinstance(filename, str) or Path(filename).name != filename or filename in ("", ".", ".."):
        return None
    try:
        check_uuid(entry.get("uuid"))
        check_manifest(entry, "index entry", limits)
    except UntrustedDataError:
        return None
    return entry


def _cached_record(cached: Any, key: dict, limits: Limits) -> Optional[dict]:
    """A cache record still valid for a file with this key, else None."""
    if not isinstance(cached, dict) or {k: cached.get(k) for k in key} != key:
        return None
    error = cached.get("error")
    if isinstance(error, str) and len(error) <= MAX_REASON:
        return {**key, "error": error}
    entry = checked_entry(cached.get("entry"), limits)
    return None if entry is None else {**key, "entry": entry}


def scan(directory: Path, previous_index: Index, cache: dict,
         read: Optional[Callable[[Path], dict]] = None, limits: Optional[Limits] = None) -> Tuple[ScanReport, dict]:
    """The index of the recordings in `directory` now, and the new cache.

    Files whose size and mtime match the cache are not opened again; the
    others are read with `read` (default `read_recording` under `limits`).
    Deleted files drop out, invalid ones are reported (and remembered, so
    they are not re-read either until they change)."""
    limits = limits if limits is not None else Limits.from_environment()
    read = read or (lambda path: read_recording(path, limits))
    files = recording_files(directory)
    known = cache.get("files", {}) if isinstance(cache, dict) else {}
    new_cache_files = {}
    report = ScanReport(index={})
    for filename in sorted(files):
        key = file_key(files[filename])
        record = _cached_record(known.get(filename), key, limits)
        if record is None:
            report.read.append(filename)
            try:
                record = {**key, "entry": read(directory / filename)}
            except RecordingError as error:
                record = {**key, "error": one_line(str(error), MAX_REASON)}
            except OSError as error:   # vanished or unreadable between listing and reading
                reason = f"{directory / filename}: cannot be read: {error.strerror or error}"
                record = {**key, "error": one_line(reason, MAX_REASON)}
        new_cache_files[filename] = record
        if "error" in record:
            report.invalid[filename] = record["error"]
            continue
        entry = dict(record["entry"], filename=filename, hasAnalysis=has_analysis(directory, filename))
        holder = report.index.get(entry["uuid"])
        if holder is not None:
            report.invalid[filename] = (f"{directory / filename}: same uuid {entry['uuid']} as "
                                        f"{holder['filename']}, which is indexed")
            continue
        report.index[entry["uuid"]] = entry
    report.added = sorted(set(report.index) - set(previous_index))
    report.removed = sorted(set(previous_index) - set(report.index))
    return report, {"version": CACHE_VERSION, "files": new_cache_files}


def create_analysis_file(directory: Path, filename: str,
                         analyse: Optional[Callable[[Path], dict]] = None) -> Optional[str]:
    """Write `<name>.json` for `<name>.zip`; None when done, else why not
    (never raised: one odd recording must not stop the others)."""
    analyse = analyse or analyse_recording
    target = analysis_path(directory / filename)
    if target.name == INDEX_NAME:
        return f"{filename}: its analysis file would be the index; rename the recording"
    try:
        write_atomically(target, json.dumps(analyse(directory / filename)))
    except RecordingError as error:
        return str(error)
    except OSError as error:
        return f"cannot write {target}: {error.strerror or error}"
    except Exception as error:  # noqa: BLE001 - the analyser on arbitrary recorded data
        return f"{directory / filename}: analysis failed: {type(error).__name__}: {error}"
    return None


def missing_analyses(index: Index) -> List[str]:
    """File names of indexed recordings without an analysis file, in name order."""
    return sorted(entry["filename"] for entry in index.values()
                  if not entry.get("hasAnalysis") and analysis_path(entry["filename"]).name != INDEX_NAME)


def mark_analysed(index: Index, filename: str) -> Index:
    """A new index in which the recording in `filename` has its analysis."""
    return {uuid: dict(entry, hasAnalysis=True) if entry.get("filename") == filename else entry
            for uuid, entry in index.items()}


def generate_analyses(directory: Path, report: ScanReport,
                      analyse: Optional[Callable[[Path], dict]] = None) -> None:
    """Create the missing analysis files of the indexed recordings, marking
    them in `report.index` (replaced, not mutated: the old one may be in use
    elsewhere); failures go to `report.analysis_failed`."""
    index = report.index
    for filename in missing_analyses(index):
        error = create_analysis_file(directory, filename, analyse)
        if error is None:
            report.analysed.append(filename)
            index = mark_analysed(index, filename)
        else:
            report.analysis_failed[filename] = error
    report.index = index


# ------------------------------------------------------------ index on disk


def _load_json(path: Path, limits: Limits) -> Any:
    """A JSON file's content; None when it is missing, unreadable or breaks
    a limit (the index and cache are derived data: a bad one is rebuilt,
    not an error)."""
    try:
        return load_json_file(path, str(path), limits)
    except (OSError, UntrustedDataError):
        return None


def load_index(directory: Path, limits: Optional[Limits] = None) -> Index:
    """index.json as written, without the entries that are not usable (an
    empty index when it is missing or unusable)."""
    limits = limits if limits is not None else Limits.from_environment()
    data = _load_json(Path(directory) / INDEX_NAME, limits)
    if not isinstance(data, dict):
        return {}
    return {uuid: entry for uuid, entry in data.items()
            if checked_entry(entry, limits) is not None and entry["uuid"] == uuid}


def load_cache(directory: Path, limits: Optional[Limits] = None) -> dict:
    limits = limits if limits is not None else Limits.from_environment()
    data = _load_json(Path(directory) / CACHE_NAME, limits)
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or not isinstance(data.get("files"), dict):
        return {"version": CACHE_VERSION, "files": {}}
    return data


def _write_json(path: Path, data: Any, previous: Any = None) -> None:
    """Write atomically, unless the file already holds exactly this."""
    if previous is not None and previous == data and path.exists():
        return
    write_atomically(path, json.dumps(data, indent=1, sort_keys=True) + "\n")


def write_index(directory: Path, index: Index, limits: Optional[Limits] = None) -> None:
    limits = limits if limits is not None else Limits.from_environment()
    _write_json(Path(directory) / INDEX_NAME, index, _load_json(Path(directory) / INDEX_NAME, limits))


def update_index(directory: PathLike, generate_analysis: bool = False,
                 previous_index: Optional[Index] = None, limits: Optional[Limits] = None) -> ScanReport:
    """Scan the directory, write index.json (atomically) and the cache, and
    with `generate_analysis` create missing analysis files, then write the
    index again (so the index is there while analyses run). Raises OSError
    when the directory cannot be listed or the index cannot be written.
    `limits` (default: from the environment) bound what is read."""
    directory = Path(directory)
    limits = limits if limits is not None else Limits.from_environment()
    if previous_index is None:
        previous_index = load_index(directory, limits)
    old_cache = load_cache(directory, limits)
    report, cache = scan(directory, previous_index, old_cache, limits=limits)
    write_index(directory, report.index, limits)
    _write_json(directory / CACHE_NAME, cache, old_cache)
    if generate_analysis:
        generate_analyses(directory, report)
        if report.analysed:
            write_index(directory, report.index, limits)
    return report


# ------------------------------------------------------------------ queries


def _start_time(entry: dict) -> float:
    start = entry.get("startTime")
    if isinstance(start, (int, float)) and not isinstance(start, bool) and math.isfinite(start):
        return float(start)
    return 0.0


def _visible(index: Index, show_hidden: bool) -> Iterable[dict]:
    return (entry for entry in index.values() if show_hidden or not entry.get("hidden"))


def _page_number(value: Any) -> int:
    """A page number from a caller: any size of integer (out of range is an
    empty page), an integral float, or a short string of digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and len(value) <= 20 and re.fullmatch(r"\s*-?[0-9]+\s*", value):
        return int(value)
    raise InvalidArgumentError(f"page_number must be an integer, not {brief(value)}")


def page(index: Index, page_number: Any = 1, filter_name: Optional[str] = None,
         show_hidden: bool = False, page_size: int = PAGE_SIZE) -> dict:
    """One page of recordings, newest first: `{"recordings", "pages", "total"}`."""
    number = _page_number(1 if page_number is None else page_number)
    if filter_name is not None and not isinstance(filter_name, str):
        raise InvalidArgumentError(f"filter_name must be a string, not {brief(filter_name)}")
    entries = [entry for entry in _visible(index, bool(show_hidden))
               if not filter_name or entry.get("name") == filter_name]
    entries.sort(key=lambda entry: (_start_time(entry), str(entry.get("uuid"))), reverse=True)
    total = len(entries)
    pages = math.ceil(total / page_size)
    recordings = entries[(number - 1) * page_size:number * page_size] if 1 <= number <= pages else []
    return {"recordings": [dict(entry) for entry in recordings], "pages": pages, "total": total}


def names(index: Index, show_hidden: bool = False) -> List[str]:
    """The distinct recording names, sorted (case-insensitively)."""
    found = {entry.get("name") for entry in _visible(index, bool(show_hidden))}
    return sorted((name for name in found if isinstance(name, str)), key=lambda name: (name.casefold(), name))


def recording_path(directory: PathLike, index: Index, uuid: Any) -> Path:
    """The ZIP of an indexed recording; NoSuchRecordingError when there is none."""
    if not isinstance(uuid, str):
        raise InvalidArgumentError(f"a recording uuid is a string, not {brief(uuid)}")
    try:
        check_uuid(uuid, "recording uuid")
    except UntrustedDataError as error:
        raise InvalidArgumentError(str(error)) from None
    entry = index.get(uuid)
    filename = entry.get("filename") if entry else None
    if not isinstance(filename, str) or Path(filename).name != filename or filename in ("", ".", ".."):
        raise NoSuchRecordingError(f"no recording {uuid}")
    path = Path(directory) / filename
    if not path.is_file():
        raise NoSuchRecordingError(f"no recording {uuid} (its file {filename} is gone)")
    return path


def read_manifest(directory: PathLike, index: Index, uuid: Any, limits: Optional[Limits] = None) -> dict:
    """The full manifest stored in an indexed recording."""
    path = recording_path(directory, index, uuid)
    try:
        with RecordingReader(path, limits) as recording:
            manifest = recording.manifest
    except (RecordingError, OSError) as error:
        raise InvalidRecordingError(f"recording {uuid} cannot be read: {error}") from None
    if manifest.get("uuid") != uuid:
        raise NoSuchRecordingError(f"no recording {uuid} (its file {path.name} now holds another)")
    return manifest


# ---------------------------------------------------------- manifest updates


def check_authcode(given: Any, configured: Optional[str]) -> None:
    """NotAuthorisedError unless an admin code is configured and `given` is it."""
    if not configured or not isinstance(given, str) or not given \
            or not hmac.compare_digest(given.encode("utf-8"), configured.encode("utf-8")):
        raise NotAuthorisedError("not authorised to update recordings")


def manifest_changes(current: dict, requested: Any) -> Dict[str, Any]:
    """The editable keys `requested` changes (see the module doc);
    InvalidArgumentError for anything else it would change."""
    if not isinstance(requested, dict):
        raise InvalidArgumentError(f"a manifest is an object, not {type(requested).__name__}")
    refused = sorted(key for key, value in requested.items()
                     if key not in EDITABLE_KEYS and (key not in current or current[key] != value))
    if refused:
        shown = ", ".join(brief(key) if len(key) > 40 else key for key in refused[:5])
        more = f" and {len(refused) - 5:,} more" if len(refused) > 5 else ""
        raise InvalidArgumentError(f"only {', '.join(EDITABLE_KEYS)} may change, not {shown}{more}")
    changes = {key: requested[key] for key in EDITABLE_KEYS
               if key in requested and (key not in current or current[key] != requested[key])}
    if "name" in changes and (not isinstance(changes["name"], str) or not changes["name"].strip()):
        raise InvalidArgumentError("name must be a non-empty string")
    if "description" in changes and not isinstance(changes["description"], str):
        raise InvalidArgumentError("description must be a string")
    if "hidden" in changes and not isinstance(changes["hidden"], bool):
        raise InvalidArgumentError("hidden must be true or false")
    return changes


def rewrite_manifest(zip_path: PathLike, manifest: dict, limits: Optional[Limits] = None) -> None:
    """Replace a recording's manifest.json, keeping every other member (and
    member order, dates and compression), atomically: the new ZIP is written
    beside it, checked, and renamed over it. Members are read with the
    recording reader's bounded reads (zipfile's own would inflate a bomb)."""
    zip_path = Path(zip_path)
    limits = limits if limits is not None else Limits.from_environment()

    def check(temporary: Path) -> None:
        with RecordingReader(zip_path, limits) as old, RecordingReader(temporary, limits) as new:
            if new.frames != old.frames or new.manifest != manifest:
                raise RecordingError(f"{zip_path}: the rewritten recording does not match; left unchanged")

    try:
        with atomic_file(zip_path, mode=os.stat(zip_path).st_mode & 0o7777, fsync=True, check=check) as handle:
            members = ZipSource(zip_path, limits)
            try:
                with zipfile.ZipFile(zip_path) as source, \
                        zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as target:
                    for info in source.infolist():
                        data = encode(manifest, "manifest") if info.filename == MANIFEST_NAME \
                            else members.read(info.filename)
                        copy = zipfile.ZipInfo(info.filename, info.date_time)
                        copy.compress_type = info.compress_type
                        copy.external_attr = info.external_attr
                        target.writestr(copy, data)
            finally:
                members.close()
    except zipfile.BadZipFile as error:
        raise RecordingError(f"{zip_path}: not a valid ZIP file: {error}") from None


@dataclass
class ManifestUpdate:
    """The outcome of update_manifest: the recording's manifest now, the index
    now, what changed, and what became of the analysis file."""

    manifest: dict
    index: Index
    changes: Dict[str, Any]
    analysis_updated: bool = False
    analysis_error: Optional[str] = None
    index_error: Optional[str] = None


def update_analysis_service(path: Path, changes: Dict[str, Any], limits: Optional[Limits] = None) -> bool:
    """Apply manifest changes to an analysis file's `service`; False when
    there is no analysis file. Raises OSError / ValueError (also
    UntrustedDataError) when it cannot be read or written."""
    limits = limits if limits is not None else Limits.from_environment()
    try:
        analysis = load_json_file(path, str(path), limits)
    except FileNotFoundError:
        return False
    if not isinstance(analysis, dict):
        raise ValueError(f"{path} does not hold an analysis object")
    service = analysis.get("service")
    analysis["service"] = {**(service if isinstance(service, dict) else {}), **changes}
    write_atomically(path, json.dumps(analysis), os.stat(path).st_mode & 0o7777)
    return True


def update_manifest(directory: PathLike, index: Index, manifest: Any, authcode: Any,
                    configured_code: Optional[str], limits: Optional[Limits] = None) -> ManifestUpdate:
    """updateManifest: check the code, then change the recording's manifest
    inside its ZIP, its analysis file's `service` and its index entry (the
    index is returned as a new dict and written). Nothing changes when the
    code is wrong or the update is refused; a change the manifest checks
    refuse (e.g. a name longer than the readers accept) is refused."""
    check_authcode(authcode, configured_code)
    if not isinstance(manifest, dict):
        raise InvalidArgumentError(f"a manifest is an object, not {type(manifest).__name__}")
    directory = Path(directory)
    limits = limits if limits is not None else Limits.from_environment()
    uuid = manifest.get("uuid")
    current = read_manifest(directory, index, uuid, limits)
    changes = manifest_changes(current, manifest)
    if not changes:
        return ManifestUpdate(current, index, changes)
    path = recording_path(directory, index, uuid)
    updated = {**current, **changes}
    try:
        check_manifest(updated, "the updated manifest", limits)
    except UntrustedDataError as error:
        raise InvalidArgumentError(str(error)) from None
    try:
        rewrite_manifest(path, updated, limits)
    except OSError as error:
        raise InvalidRecordingError(f"recording {uuid} cannot be rewritten: {error.strerror or error}") from None
    except RecordingError as error:
        raise InvalidRecordingError(f"recording {uuid} cannot be rewritten: {error}") from None
    result = ManifestUpdate(updated, index, changes)
    target = analysis_path(path)
    if target.name != INDEX_NAME:
        try:
            result.analysis_updated = update_analysis_service(target, changes, limits)
        except (OSError, ValueError) as error:
            result.analysis_error = f"{target}: {error}"
    entry = index_entry(path.name, updated, index[uuid].get("duration"), has_analysis(directory, path.name))
    entry["startTime"] = index[uuid].get("startTime", entry["startTime"])
    result.index = {**index, uuid: entry}
    try:
        write_index(directory, result.index, limits)
        cache = load_cache(directory, limits)
        if isinstance(cache["files"].get(path.name), dict):   # spare the next scan a re-read
            cache["files"][path.name] = {**file_key(path.stat()), "entry": dict(entry, hasAnalysis=False)}
            _write_json(directory / CACHE_NAME, cache)
    except OSError as error:   # the recording is updated; the next refresh rewrites the index
        result.index_error = f"cannot write the index in {directory}: {error.strerror or error}"
    return result


# ------------------------------------------------------------------ facade


class Catalogue:
    """The index of one recordings directory, kept in memory between scans.

    `refresh()`, `create_analysis()`, `manifest()` and `update_manifest()`
    touch the disk (the WAMP shell runs them in a thread, the writing ones
    one at a time); `page()` and `names()` only read `self.index`, which is
    always replaced, never mutated, so readers in another thread see one
    index or the other."""

    def __init__(self, directory: PathLike, limits: Optional[Limits] = None):
        self.directory = Path(directory)
        self.limits = limits if limits is not None else Limits.from_environment()
        self.index: Index = load_index(self.directory, self.limits)
        self._failed_analyses: Dict[str, dict] = {}   # file name -> file_key when it failed

    def refresh(self) -> ScanReport:
        """Rescan the directory and write the index (no analyses: see create_analysis)."""
        report = update_index(self.directory, False, self.index, self.limits)
        self.index = report.index
        return report

    def missing_analyses(self) -> List[str]:
        """Recordings without analysis, except those whose analysis failed
        and which have not changed since (not retried on every refresh)."""
        missing = []
        for filename in missing_analyses(self.index):
            failed = self._failed_analyses.get(filename)
            try:
                if failed is not None and failed == file_key(os.stat(self.directory / filename)):
                    continue
            except OSError:
                continue
            missing.append(filename)
        return missing

    def create_analysis(self, filename: str) -> Optional[str]:
        """Create one recording's missing analysis file and mark it in the
        index; None when done (or no longer needed), else why not."""
        if filename not in self.missing_analyses():
            return None
        try:
            key = file_key(os.stat(self.directory / filename))
        except OSError:
            return None   # gone since the scan: the next refresh drops it
        error = create_analysis_file(self.directory, filename)
        if error is None:
            self._failed_analyses.pop(filename, None)
            self.index = mark_analysed(self.index, filename)
            write_index(self.directory, self.index, self.limits)
        else:
            self._failed_analyses[filename] = key
        return error

    def page(self, page_number: Any = 1, filter_name: Optional[str] = None, show_hidden: bool = False) -> dict:
        return page(self.index, page_number, filter_name, show_hidden)

    def names(self, show_hidden: bool = False) -> List[str]:
        return names(self.index, show_hidden)

    def manifest(self, uuid: Any) -> dict:
        return read_manifest(self.directory, self.index, uuid, self.limits)

    def update_manifest(self, manifest: Any, authcode: Any, configured_code: Optional[str]) -> ManifestUpdate:
        result = update_manifest(self.directory, self.index, manifest, authcode, configured_code, self.limits)
        self.index = result.index
        return result
