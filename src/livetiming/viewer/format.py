"""Cell and header texts. Times are decimal seconds on the wire
(protocol.md §5); they are shown the way timing screens show them."""
import math
from numbers import Real
from typing import Any, Optional


def is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def format_time(value: Any) -> str:
    """A lap or sector time: `1:40.966` from 100.966, `30.953` under a
    minute; anything that is not a number is shown as it is ("" stays "")."""
    if not is_number(value):
        return text(value)
    if value < 0:
        return "-" + format_time(-value)
    millis = int(round(value * 1000))
    minutes, millis = divmod(millis, 60_000)
    seconds, millis = divmod(millis, 1000)
    if minutes:
        return f"{minutes}:{seconds:02d}.{millis:03d}"
    return f"{seconds}.{millis:03d}"


def format_delta(value: Any) -> str:
    """A gap or interval: numbers to the millisecond, texts ("1 lap") as they are."""
    if is_number(value):
        return f"{value:.3f}"
    return text(value)


def format_numeric(value: Any) -> str:
    if is_number(value) and isinstance(value, float) and not value.is_integer():
        return f"{value:g}"
    if is_number(value):
        return str(int(value))
    return text(value)


def format_duration(seconds: Any) -> str:
    """`1:02:03`, `2:03` (clock time of a session); "" when not a number."""
    if not is_number(seconds):
        return ""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_age(seconds: Optional[float]) -> str:
    """How old the latest update is: `0s`, `12s`, `3m 04s`, `1h 02m`."""
    if seconds is None or not is_number(seconds):
        return "never"
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


def text(value: Any) -> str:
    """Display text of any value: None is "", the rest str() without line breaks."""
    if value is None:
        return ""
    shown = value if isinstance(value, str) else str(value)
    if not shown.isprintable():
        shown = "".join(character if character.isprintable() else " " for character in shown)
    return shown.strip()
