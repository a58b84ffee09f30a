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
    """UTF-8 if the file decodes as UTF-8 or mostly does, else Windows-1254.

    Small files are read whole; a large one in evenly spread samples (its start, its end and
    chunks between): Turkish text written in Windows-1254 has bytes UTF-8 forbids on nearly
    every line (ş, ğ, ı, ö, ü, ç), so a sample finds them, where decoding a 3 GB export whole
    cost 11 s. Text that fails to decode is weighed: a UTF-8 export with a few lines from
    elsewhere is still UTF-8 (those lines are quarantined when read), and a Windows-1254 one
    with a UTF-8 line is still Windows-1254 (the line is read as UTF-8, see `write_utf8_copy`)."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        if size <= SAMPLE_CHUNKS * CHUNK_BYTES:
            chunks = [handle.read()]
        else:
            chunks = []
            for index in range(SAMPLE_CHUNKS):
                handle.seek((size - CHUNK_BYTES) * index // (SAMPLE_CHUNKS - 1))
                chunks.append(handle.read(CHUNK_BYTES))
    well_formed = malformed = 0
    for number, chunk in enumerate(chunks):
        # A sample may start or end inside a character: trim those bytes, not count them.
        body = chunk if len(chunks) == 1 else _whole_characters(chunk, first=number == 0)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            good, bad = _utf8_bytes(body)
            well_formed, malformed = well_formed + good, malformed + bad
    return "utf-8" if well_formed >= malformed else "cp1254"


def _utf8_bytes(data: bytes) -> tuple[int, int]:
    """Bytes of well-formed UTF-8 characters beyond their first, and bytes UTF-8 forbids: about
    one each per Turkish letter written in UTF-8, and in Windows-1254."""
    kept = data.decode("utf-8", "ignore")
    well_formed = len(kept.encode("utf-8"))
    return well_formed - len(kept), len(data) - well_formed


def write_utf8_copy(original: Path, copy: Path) -> list[int]:
    """A Windows-1254 file as UTF-8, line for line; returns the lines that were UTF-8 already.

    Such a line (a record pasted from another system) is unambiguous: Windows-1254 text almost
    never forms valid UTF-8, so it is kept as it is rather than turned into "ÅŸ" (or a crash on
    a byte Windows-1254 does not define). A line valid in neither is copied unchanged, so the
    reader rejects it as not UTF-8 and the quarantine shows its bytes. Each chunk is checked
    whole first: one without a well-formed multi-byte UTF-8 character and without an undefined
    byte converts at once, so only a chunk with such a line is taken line by line."""
    utf8_lines: list[int] = []
    lines_before = 0
    with open(original, "rb") as source, open(copy, "wb") as target:
        while chunk := source.read(CHUNK_BYTES):
            chunk += source.readline()  # end on a whole line
            if chunk.decode("utf-8", "ignore").isascii():
                try:
                    target.write(chunk.decode("cp1254").encode("utf-8"))
                    lines_before += chunk.count(b"\n")
                    continue
                except UnicodeDecodeError:
                    pass
            lines = chunk.split(b"\n")
            for offset, line in enumerate(lines):
                ending = b"\n" if offset < len(lines) - 1 else b""
                target.write(_line_as_utf8(line, lines_before + 1 + offset, utf8_lines) + ending)
            lines_before += len(lines) - 1
    return utf8_lines


def _line_as_utf8(line: bytes, number: int, utf8_lines: list[int]) -> bytes:
    try:
        if not line.isascii():
            line.decode("utf-8")
            utf8_lines.append(number)
        return line
    except UnicodeDecodeError:
        pass
    try:
        return line.decode("cp1254").encode("utf-8")
    except UnicodeDecodeError:
        return line


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
