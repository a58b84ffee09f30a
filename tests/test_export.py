"""Exported lists open safely in a spreadsheet: formulas neutralised, numbers kept numbers."""
import polars as pl

from crm360 import export

RISKY = ['=HYPERLINK("http://x")', "+90 532", "-5", "@SUM(A1)", "\tcmd", "\rx"]


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
