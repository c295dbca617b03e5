"""The viewer's colours, one table per meaning, as rich style strings. They
follow the conventions of timing screens: purple (magenta) for a session
best, green for a personal best, grey for a previous lap's sector; rows
tinted by what the car is doing; the flag as a coloured band."""
import zlib
from typing import Optional

TIME_FLAGS = {
    "pb": "bold green",
    "sb": "bold magenta",
    "sb-new": "bold white on magenta",
    "old": "bright_black",
}
"""Style of a `[value, flag]` time cell by its flag; other flags (tyre hints) are plain."""

CAR_STATE_ROWS = {
    "PIT": "on dark_red",
    "OUT": "on dark_green",
    "FUEL": "on dark_orange3",
    "STOP": "on yellow4",
    "RET": "bright_black",
    "FIN": "on grey23",
}
"""Style of a whole row by the car's state (RUN and others: none)."""

CAR_STATE_CELLS = {
    "PIT": "bold red",
    "OUT": "bold green",
    "FUEL": "bold orange1",
    "STOP": "bold yellow",
    "RET": "bright_black",
    "FIN": "bold white",
    "N/S": "bright_black",
}
"""Style of the State cell itself."""

CLASSES = {
    "LMP1": "red", "HYPERCAR": "red", "LMH": "red", "LMDH": "red", "GTP": "red", "DPI": "red",
    "LMP2": "blue", "P2": "blue",
    "LMP3": "purple", "P3": "purple",
    "GTE": "green", "GTE-PRO": "green", "GTLM": "green", "GTE PRO": "green",
    "GTE-AM": "dark_orange", "GTE AM": "dark_orange", "GTD": "dark_orange",
    "GT3": "orange1", "LMGT3": "orange1", "GTD PRO": "green",
    "GT4": "cyan",
}
"""Colours of classes that are common on timing screens."""

PALETTE = ("cyan", "yellow", "bright_blue", "bright_green", "bright_magenta", "orange1", "turquoise2",
           "gold1", "orchid", "spring_green1")
"""Colours for any other class, chosen by a stable hash of its name."""

FLAGS = {
    "none": ("NO FLAG", "white on grey30"),
    "green": ("GREEN FLAG", "bold black on green"),
    "white": ("WHITE FLAG", "bold black on grey85"),
    "chequered": ("CHEQUERED FLAG", "bold black on bright_white"),
    "yellow": ("YELLOW", "bold black on yellow"),
    "fcy": ("FULL COURSE YELLOW", "bold black on yellow"),
    "code_60": ("CODE 60", "bold white on purple"),
    "vsc": ("VIRTUAL SAFETY CAR", "bold black on yellow"),
    "sc": ("SAFETY CAR", "bold black on yellow"),
    "caution": ("CAUTION", "bold black on yellow"),
    "red": ("RED FLAG", "bold white on red"),
    "slow_zone": ("SLOW ZONE", "bold black on dark_orange"),
    "code_60_zone": ("CODE 60 ZONE", "bold white on purple"),
}
"""(label, style) of the flag band by `session.flagState`."""

MESSAGES = {
    "pb": "green",
    "sb": "magenta",
    "pit": "red",
    "out": "green",
    "green": "green",
    "yellow": "yellow",
    "red": "red",
    "code60": "purple",
    "track": "bold",
    "white": "white",
    "raceControl": "cyan",
}
"""Style of a message by its style field (others: plain)."""

HIGHLIGHT = "reverse"
"""The car number of a car in this update's `highlight`."""


def class_style(name: Optional[str]) -> str:
    if not name:
        return ""
    colour = CLASSES.get(name.upper()) or PALETTE[zlib.crc32(name.encode("utf-8")) % len(PALETTE)]
    return f"bold {colour}"


def flag_band(flag: Optional[str]) -> tuple:
    """(label, style) for a flag state; an unknown one is shown by its name."""
    key = (flag or "none").lower()
    return FLAGS.get(key, (key.upper().replace("_", " "), "bold white on grey30"))
