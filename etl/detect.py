"""What an export does not say about itself: its encoding, its CSV delimiter, how it writes dates
and decimals. Each guess is made per file, from the file, and reported with the run, so a person
can see what was assumed (and pin it in the mapping when the guess is wrong).
"""
from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from pathlib import Path

ENCODINGS = ("utf-8", "cp1254")  # UTF-8 (with or without BOM), else Turkish Windows
DELIMITERS = (",", ";", "\t", "|")
CHUNK_BYTES = 16 * 1024 * 1024

# Date writings, each with the strptime formats tried in order (with time, then date only).
DATE_STYLES: dict[str, tuple[str, ...]] = {
    "iso": ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"),
    "dd.mm.yyyy": ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"),
    "dd/mm/yyyy": ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"),
    "mm/dd/yyyy": ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y"),
    "yyyymmdd": ("%Y%m%d",),  # pinned in a mapping only: eight digits could be anything
}


@dataclass(frozen=True)
class DateGuess:
    style: str
    note: str = ""  # set when the writing was ambiguous or mixed, for the run report


def encoding_of(path: Path) -> str:
    """UTF-8 if every byte of the file decodes as UTF-8, else Windows-1254 (which decodes anything)."""
    utf8 = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as handle:
        try:
            while chunk := handle.read(CHUNK_BYTES):
                utf8.decode(chunk)
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1254"
    return "utf-8"


def delimiter_of(header_line: str) -> str:
    """The candidate delimiter that splits the header into the most fields (outside quotes)."""
    counts = {d: len(next(csv.reader([header_line], delimiter=d), [])) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))
    return best if counts[best] > 1 else ","


def date_style_from_counts(iso: int, dotted: int, slashed: int, first_max: int, second_max: int,
                           **_: int) -> DateGuess | None:
    """How a column writes its dates, from how many of its values look ISO (2026-06-30), dotted
    (30.06.2026) or slashed (30/06/2026), and the largest first and second slashed parts; None
    when no value looks like a date. Slashed dates are day-first unless some second part is over
    12; when no part is over 12 the writing is ambiguous and day-first (the Turkish way) is
    assumed, and said."""
    styles = {"iso": iso, "dd.mm.yyyy": dotted, "slashed": slashed}
    style = max(styles, key=styles.get)
    if not styles[style]:
        return None
    others = sum(styles.values()) - styles[style]
    mixed = f"{others:,} values written another way" if others else ""
    if style != "slashed":
        return DateGuess(style, mixed)
    if second_max > 12 >= first_max:
        return DateGuess("mm/dd/yyyy", "; ".join(filter(None, [f"month first: a second part reaches {second_max}",
                                                                mixed])))
    if first_max > 12 and second_max > 12:
        return DateGuess("dd/mm/yyyy", "; ".join(filter(None, ["parts over 12 on both sides: not one writing",
                                                                mixed])))
    if first_max > 12:
        return DateGuess("dd/mm/yyyy", mixed)
    return DateGuess("dd/mm/yyyy", "; ".join(filter(None, ["ambiguous (no part over 12): day first assumed",
                                                            mixed])))
