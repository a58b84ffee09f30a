"""What an export does not say about itself: its encoding, its CSV delimiter, how it writes dates
and decimals. Each guess is made per file, from the file, and reported with the run, so a person
can see what was assumed (and pin it in the mapping when the guess is wrong).
"""
from __future__ import annotations

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


SAMPLE_CHUNKS = 8  # spread over the file, each CHUNK_BYTES long


def encoding_of(path: Path) -> str:
    """UTF-8 if the file decodes as UTF-8, else Windows-1254 (which decodes anything).

    Small files are read whole; a large one in evenly spread samples (its start, its end and
    chunks between): Turkish text written in Windows-1254 has bytes UTF-8 forbids on nearly
    every line (ş, ğ, ı, ö, ü, ç), so a sample finds them, where decoding a 3 GB export whole
    cost 11 s. A file that mixes both would still fail its read, with one line saying where."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        if size <= SAMPLE_CHUNKS * CHUNK_BYTES:
            chunks = [handle.read()]
        else:
            chunks = []
            for index in range(SAMPLE_CHUNKS):
                handle.seek((size - CHUNK_BYTES) * index // (SAMPLE_CHUNKS - 1))
                chunks.append(handle.read(CHUNK_BYTES))
    for number, chunk in enumerate(chunks):
        # A sample may start or end inside a character: trim those bytes, not count them.
        body = chunk if len(chunks) == 1 else _whole_characters(chunk, first=number == 0)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return "cp1254"
    return "utf-8"


def _whole_characters(chunk: bytes, first: bool) -> bytes:
    start = 0
    if not first:
        while start < min(4, len(chunk)) and 0x80 <= chunk[start] < 0xC0:  # continuation bytes
            start += 1
    end = len(chunk)
    for back in range(1, min(4, end) + 1):
        byte = chunk[end - back]
        if byte < 0x80:
            break
        if byte >= 0xC0:  # the lead byte of a character the sample cuts: drop it
            end -= back
            break
    return chunk[start:end]


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
