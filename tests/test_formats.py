"""Exports as other systems write them: delimiters, encodings, quoted newlines, date and decimal
writings detected per file (and reported), Excel workbooks."""
import polars as pl

from etl.mapping import SEED_MAPPING
from tests.conftest import load_dir
from tests.rawfiles import write_raw

HEADERS = ["Şikayet No", "Müşteri No", "Açılış Tarihi", "Kanal", "Kategori", "Önem Derecesi", "İlk Yanıt Tarihi",
           "Durum", "İade Tutarı (TL)", "Açıklama"]
COMPLAINTS_MAPPING = """
[[source]]
entity = "complaints"
file = "{file}"
format = "{format}"
key = ["complaint_id"]
order_by = ["customer_id", "opened_at"]
[source.columns]
"Şikayet No" = "complaint_id"
"Müşteri No" = "customer_id"
"Açılış Tarihi" = "opened_at"
"Kanal" = "channel"
"Kategori" = "category"
"Önem Derecesi" = "severity"
"İlk Yanıt Tarihi" = "first_response_at"
"Durum" = "status"
"İade Tutarı (TL)" = "refund_amount_try"
"Açıklama" = "description"
[source.values.channel]
"Telefon" = "phone"
"E-posta" = "email"
"""
CUSTOMERS = [{"customer_id": 1_000_000 + n, "full_name": f"Müşteri {n}", "email": f"c{n}@example.com",
              "phone": f"0532 000 00 {n:02d}"} for n in range(1, 4)]


def _raw_with_complaints(tmp_path, file: str, content: bytes, file_format: str = "csv"):
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS)
    (raw / "complaints.csv").unlink()
    (raw / file).write_bytes(content)
    blocks = SEED_MAPPING.read_text(encoding="utf-8").split("[[source]]\n")
    kept = "[[source]]\n".join(b for b in blocks if 'entity = "complaints"' not in b)
    (raw / "mapping.toml").write_text(kept + COMPLAINTS_MAPPING.format(file=file, format=file_format),
                                      encoding="utf-8")
    return raw


def _text(rows: list[list[str]], delimiter: str) -> str:
    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if any(c in value for c in (delimiter, '"', "\n")) else value
    return "\r\n".join(delimiter.join(cell(v) for v in row) for row in [HEADERS, *rows]) + "\r\n"


def _notes(db, file: str) -> str:
    return db.row("SELECT read_notes FROM etl_runs WHERE source_file = ?", [file])[0] or ""


def test_turkish_windows_tabs_quoted_newlines_day_first_and_decimal_comma(tmp_path):
    rows = [["1", "1000001", "25/06/2026 14:30", "Telefon", "late_delivery", "high", "26/06/2026 09:00", "open",
             "1.234,50", "Kargo gecikti.\nİkinci satır: \"çok\" geç!"],
            ["2", "1000002", "03/07/2026 08:00", "E-posta", "billing_error", "low", "", "open", "12,5", "Fatura"]]
    raw = _raw_with_complaints(tmp_path, "sikayetler.txt", _text(rows, "\t").encode("cp1254"))
    db, _ = load_dir(raw, tmp_path)
    loaded = db.frame("SELECT complaint_id, opened_at, first_response_at, channel, refund_amount_try, description "
                      "FROM complaints ORDER BY complaint_id").rows(named=True)
    assert [str(r["opened_at"]) for r in loaded] == ["2026-06-25 14:30:00", "2026-07-03 08:00:00"]
    assert [r["channel"] for r in loaded] == ["phone", "email"]
    assert [float(r["refund_amount_try"]) for r in loaded] == [1234.5, 12.5]
    assert loaded[0]["description"] == "Kargo gecikti.\nİkinci satır: \"çok\" geç!"
    notes = _notes(db, "sikayetler.txt")
    assert "Windows-1254" in notes and "delimiter '\\t'" in notes and "decimal comma" in notes
    assert "opened_at: dates written dd/mm/yyyy" in notes


def test_ambiguous_slashed_dates_are_read_day_first_and_reported(tmp_path):
    rows = [["1", "1000001", "05/06/2026 10:00", "phone", "late_delivery", "high", "", "open", "", "a"],
            ["2", "1000002", "06/05/2026 10:00", "phone", "late_delivery", "high", "", "open", "", "b"]]
    raw = _raw_with_complaints(tmp_path, "complaints_export.csv", b"\xef\xbb\xbf" + _text(rows, ";").encode())
    db, _ = load_dir(raw, tmp_path)
    opened = [str(r[0]) for r in db.frame("SELECT opened_at FROM complaints ORDER BY complaint_id").rows()]
    assert opened == ["2026-06-05 10:00:00", "2026-05-06 10:00:00"]
    assert "ambiguous (no part over 12): day first assumed" in _notes(db, "complaints_export.csv")


def test_month_first_dates_are_recognised_by_a_part_over_12(tmp_path):
    rows = [["1", "1000001", "06/25/2026 10:00", "phone", "late_delivery", "high", "06/26/2026 09:30", "open", "",
             "a"], ["2", "1000002", "07/01/2026 10:00", "phone", "late_delivery", "high", "", "open", "", "b"]]
    raw = _raw_with_complaints(tmp_path, "us_export.csv", _text(rows, ",").encode())
    db, _ = load_dir(raw, tmp_path)
    opened = [str(r[0]) for r in db.frame("SELECT opened_at FROM complaints ORDER BY complaint_id").rows()]
    assert opened == ["2026-06-25 10:00:00", "2026-07-01 10:00:00"]
    assert "month first" in _notes(db, "us_export.csv")


def test_an_excel_workbook_loads_and_a_bad_row_is_reported_with_its_sheet_row(tmp_path):
    frame = pl.DataFrame([dict(zip(HEADERS, row, strict=True)) for row in [
        ["1", "1000001", "25.06.2026 14:30", "Telefon", "late_delivery", "high", "", "open", "", "ok"],
        ["2", "1000002", "yesterday", "Telefon", "late_delivery", "high", "", "open", "", "bad date"],
        ["3", "1000003", "27.06.2026 09:00", "Telefon", "wrong_item", "low", "", "open", "", "ok"]]])
    path = tmp_path / "sikayetler.xlsx"
    frame.write_excel(path)
    raw = _raw_with_complaints(tmp_path, "sikayetler.xlsx", path.read_bytes(), "xlsx")
    db, _ = load_dir(raw, tmp_path, max_rejected_share=0.5)
    assert db.row("SELECT count(*) FROM complaints")[0] == 2
    line, field = db.row("SELECT line_number, field FROM quarantine WHERE source_file = 'sikayetler.xlsx' "
                         "AND action = 'row_rejected'")
    assert (line, field) == (3, "opened_at")  # header on row 1, the bad row on row 3


def test_a_file_that_is_not_excel_fails_alone_with_one_line(tmp_path):
    raw = _raw_with_complaints(tmp_path, "sikayetler.xlsx", b"this is not a workbook", "xlsx")
    db, report = load_dir(raw, tmp_path)
    assert report.failures == ["sikayetler.xlsx: cannot be read as Excel: " + report.failures[0].split(
        "cannot be read as Excel: ")[1]]
    assert "complaints is empty (no earlier load to keep)" in report.failures[0]
    assert db.row("SELECT count(*) FROM complaints")[0] == 0 and db.row("SELECT count(*) FROM customers")[0] == 3


def test_encoding_is_told_from_samples_of_a_large_file_cut_anywhere(tmp_path, monkeypatch):
    from etl import detect

    monkeypatch.setattr(detect, "CHUNK_BYTES", 1000)  # samples of 1,000 bytes, cut mid-character
    line = "Müşteri;Şehir;Ağrı;ığüşöç\n"
    utf8, turkish_windows = tmp_path / "a.csv", tmp_path / "b.csv"
    utf8.write_bytes((line * 5_000).encode("utf-8"))
    turkish_windows.write_bytes((line * 5_000).encode("cp1254"))
    assert detect.encoding_of(utf8) == "utf-8"
    assert detect.encoding_of(turkish_windows) == "cp1254"
