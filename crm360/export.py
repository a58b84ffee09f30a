"""Lists leave the app as files people open in spreadsheets: make them safe to open."""
from __future__ import annotations

import polars as pl

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells that a spreadsheet would run get a leading apostrophe; lists become "a; b";
    numbers, dates and booleans are left as they are."""
    columns = []
    for name, kind in frame.schema.items():
        column = pl.col(name)
        if isinstance(kind, pl.List):
            column = column.list.join("; ")
        elif kind != pl.String:
            columns.append(column)
            continue
        starts = pl.any_horizontal(*(column.str.starts_with(s) for s in FORMULA_STARTS))
        columns.append(pl.when(starts).then(pl.lit("'") + column).otherwise(column).alias(name))
    return frame.select(columns)


def to_csv(frame: pl.DataFrame) -> bytes:
    """UTF-8 with a byte-order mark, so Excel reads Turkish letters right."""
    return b"\xef\xbb\xbf" + neutralise(frame).write_csv().encode("utf-8")
