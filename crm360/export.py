"""Lists leave the app as files people open in spreadsheets and diallers: make them safe to open
and usable as they are.

Phones leave as digits only, in international form without the plus (`905321234567`): a
spreadsheet takes `+90...` for a formula and an apostrophe in front breaks a dialler, while
digits start no formula and every dialler reads them. A phone column is one named `phone` or
ending in `_phone`, and holds phones only (masked ones travel in a column of their own)."""
from __future__ import annotations

import io

import polars as pl
import xlsxwriter

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXCEL_MAX_ROWS = 1_048_576  # the sheet's limit, header included


class ExportTooLarge(ValueError):
    """A list longer than a spreadsheet can hold, with what to do instead."""


def is_phone_column(name: str) -> bool:
    return name == "phone" or name.endswith("_phone")


def dialler_phone(column: pl.Expr) -> pl.Expr:
    """`+90 532 123 45 67` -> `905321234567`: the digits, empty when there are none."""
    digits = column.str.replace_all(r"[^0-9]", "")
    return pl.when(digits.str.len_chars() > 0).then(digits).otherwise(None)


def neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """Phones become digits only; other text cells that a spreadsheet would run get a leading
    apostrophe; lists become "a; b"; numbers, dates and booleans are left as they are."""
    columns = []
    for name, kind in frame.schema.items():
        column = pl.col(name)
        if kind == pl.String and is_phone_column(name):
            columns.append(dialler_phone(column).alias(name))
            continue
        if isinstance(kind, pl.List):
            column = column.list.join("; ")
        elif kind != pl.String:
            columns.append(column)
            continue
        starts = pl.any_horizontal(*(column.str.starts_with(s) for s in FORMULA_STARTS))
        columns.append(pl.when(starts).then(pl.lit("'") + column).otherwise(column).alias(name))
    return frame.select(columns)


Stamp = tuple[str, str]  # who exported (user and role) and when (ISO time)


def stamped(frame: pl.DataFrame, stamp: Stamp | None) -> pl.DataFrame:
    """Every row carries who exported the file and when: a file that travels (a dialler, a mailing
    tool, an e-mail attachment) still says where it came from, and a column keeps the file a
    plain table for whatever reads it."""
    if stamp is None:
        return frame
    return frame.with_columns(pl.lit(stamp[0]).alias("exported_by"), pl.lit(stamp[1]).alias("exported_at"))


def to_csv(frame: pl.DataFrame, stamp: Stamp | None = None) -> bytes:
    """UTF-8 with a byte-order mark, so Excel reads Turkish letters right."""
    return b"\xef\xbb\xbf" + neutralise(stamped(frame, stamp)).write_csv().encode("utf-8")


def to_xlsx(frame: pl.DataFrame, sheet: str = "list", stamp: Stamp | None = None) -> bytes:
    """An Excel workbook: text is written as text cells (never as formulas, links or numbers,
    and neutralised as in the CSV so a cell edited later does not run either); numbers stay
    numbers. Written row by row in xlsxwriter's constant-memory mode, so a list of hundreds of
    thousands of customers does not hold every cell as a Python object at once."""
    if frame.height + 1 > EXCEL_MAX_ROWS:
        raise ExportTooLarge(f"{frame.height:,} rows do not fit in one Excel sheet "
                             f"({EXCEL_MAX_ROWS - 1:,} at most): narrow the filters or download the CSV.")
    safe = neutralise(stamped(frame, stamp))
    buffer = io.BytesIO()
    options = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
               "strings_to_numbers": False, "default_date_format": "dd.mm.yyyy hh:mm"}
    with xlsxwriter.Workbook(buffer, options) as workbook:
        if stamp is not None:
            workbook.set_properties({"author": stamp[0], "comments": f"Exported from Customer 360 at {stamp[1]}"})
        worksheet = workbook.add_worksheet(sheet)
        worksheet.write_row(0, 0, safe.columns, workbook.add_format({"bold": True}))
        worksheet.freeze_panes(1, 0)
        for number, row in enumerate(safe.iter_rows(), start=1):
            worksheet.write_row(number, 0, row)
        worksheet.autofilter(0, 0, safe.height, max(safe.width - 1, 0))
    return buffer.getvalue()
