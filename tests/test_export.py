"""Exported lists open safely in a spreadsheet: formulas neutralised, numbers kept numbers."""
import html
import io

import polars as pl
import pytest

from crm360 import export

RISKY = ['=HYPERLINK("http://x")', "+90 532", "-5", "@SUM(A1)", "\tcmd", "\rx"]


def test_phones_leave_as_digits_a_dialler_reads_as_they_are():
    frame = pl.DataFrame({"phone": ["+905321234567", "+4915112345678", None, '=HYPERLINK("x")'],
                          "service_phone": ["+90 532 123 45 67", None, None, None],
                          "phone_masked": [None, None, "0533 *** ** 67", None]})
    safe = export.neutralise(frame)
    assert safe["phone"].to_list() == ["905321234567", "4915112345678", None, None]
    assert safe["service_phone"].to_list() == ["905321234567", None, None, None]
    assert safe["phone_masked"].to_list()[2] == "0533 *** ** 67"  # national form: nothing to neutralise
    lines = export.to_csv(frame).decode("utf-8-sig").splitlines()
    assert lines[1].startswith("905321234567,905321234567,")


def test_cells_a_spreadsheet_would_run_are_neutralised_and_numbers_stay_numbers():
    frame = pl.DataFrame({"name": [*RISKY, "Ayşe", None], "value": [1.5, -2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
                          "reasons": [["=1+1", "ok"]] * 8})
    safe = export.neutralise(frame)
    assert safe["name"].to_list()[:6] == ["'" + cell for cell in RISKY]
    assert safe["name"].to_list()[6:] == ["Ayşe", None]
    assert safe["value"].dtype == pl.Float64 and safe["value"].to_list()[1] == -2.0
    assert safe["reasons"][0] == "'=1+1; ok"
    text = export.to_csv(frame).decode("utf-8-sig")
    assert "Ayşe" in text and ",-2.0," in text and "'=HYPERLINK" in text


def _sheet_cells(workbook: bytes) -> tuple[str, list[str]]:
    import re
    import zipfile
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
        strings = archive.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in archive.namelist() else ""
    texts = re.findall(r"<t[^>]*>([^<]*)</t>", strings)
    inline = re.findall(r"<is><t[^>]*>([^<]*)</t></is>", sheet)
    return sheet, [html.unescape(t) for t in texts + inline]


def test_excel_writes_text_as_text_and_numbers_as_numbers():
    frame = pl.DataFrame({"name": [*RISKY, "Ayşe", None], "value": [1.5, -2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
                          "reasons": [["=1+1", "ok"]] * 8})
    sheet, texts = _sheet_cells(export.to_xlsx(frame))
    assert "<f>" not in sheet  # no cell is a formula
    assert "'=HYPERLINK(\"http://x\")" in texts and "Ayşe" in texts and "'=1+1; ok" in texts
    assert "<v>-2</v>" in sheet and "<v>1.5</v>" in sheet  # numeric cells, not text
    assert 'ref="A1:C9"' in sheet  # header and eight rows


def test_excel_refuses_a_list_longer_than_a_sheet():
    class Huge(pl.DataFrame):
        @property
        def height(self) -> int:
            return export.EXCEL_MAX_ROWS

    with pytest.raises(export.ExportTooLarge, match="CSV"):
        export.to_xlsx(Huge({"a": [1]}))
