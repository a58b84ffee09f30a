"""What real exports do to a load: a line in another encoding, quoted fields with line breaks,
values that are not what the column holds, an order with the same product on two lines. Each is
a quarantined row with its physical line and its raw text, or a correct row; never a failed run."""
import json

import pytest

from etl import detect
from etl.mapping import SEED_MAPPING
from tests.conftest import load_dir
from tests.rawfiles import write_raw

TURKISH_CUSTOMERS = [{"customer_id": 1_000_000 + n, "full_name": f"Şule Ğündüz {n}", "city": "Muğla"}
                     for n in range(1, 41)]


def _seed_mapping(raw, *replacements: tuple[str, str]) -> None:
    """The seed's mapping in the raw folder, with some of its settings rewritten."""
    text = SEED_MAPPING.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    (raw / "mapping.toml").write_text(text, encoding="utf-8")


def _rewrite_line(path, index: int, encoding: str) -> bytes:
    """Line `index` (0-based) of a UTF-8 file written in another encoding; returns its new bytes."""
    lines = path.read_bytes().split(b"\n")
    lines[index] = lines[index].decode("utf-8").encode(encoding)
    path.write_bytes(b"\n".join(lines))
    return lines[index]


def _quarantine(db, file):
    return db.frame("SELECT line_number, field, reason, raw_value, action FROM quarantine "
                    "WHERE source_file = ? ORDER BY line_number", [file]).rows(named=True)


@pytest.mark.parametrize("encoding", ["utf-8", "auto"])
def test_a_windows_1254_line_in_a_utf8_export_is_quarantined_with_its_bytes_and_the_rest_loads(tmp_path, encoding):
    raw = write_raw(tmp_path / "raw", customers=TURKISH_CUSTOMERS)
    _seed_mapping(raw, ('encoding = "utf-8"', f'encoding = "{encoding}"'))
    foreign = _rewrite_line(raw / "customers.csv", 6, "cp1254")  # physical line 7: customer 1000006
    db, report = load_dir(raw, tmp_path)
    assert report.failures == []
    assert db.row("SELECT count(*) FROM customers")[0] == 39
    assert db.row("SELECT full_name FROM customers WHERE customer_id = 1000007")[0] == "Şule Ğündüz 7"
    [row] = _quarantine(db, "customers.csv")
    assert (row["line_number"], row["action"]) == (7, "row_rejected")
    assert "not UTF-8" in row["reason"]
    assert row["raw_value"] == foreign.decode("ascii", "backslashreplace")
    assert "1000006,\\xdeule \\xd0\\xfcnd\\xfcz 6," in row["raw_value"]


def test_a_windows_1254_line_in_a_json_lines_export_is_quarantined_with_its_bytes(tmp_path):
    surveys = [{"survey_id": n, "customer_id": 1000001, "comment": "Çok güzel, teşekkürler"} for n in range(1, 30)]
    raw = write_raw(tmp_path / "raw", customers=TURKISH_CUSTOMERS[:1], surveys=surveys)
    foreign = _rewrite_line(raw / "survey_responses.jsonl", 2, "cp1254")
    db, report = load_dir(raw, tmp_path)
    assert report.failures == []
    assert db.row("SELECT count(*) FROM survey_responses")[0] == 28
    [row] = _quarantine(db, "survey_responses.jsonl")
    assert row["line_number"] == 3
    assert row["raw_value"] == foreign.decode("ascii", "backslashreplace")
    assert "te\\xfeekk\\xfcrler" in row["raw_value"]


def test_in_a_windows_1254_export_a_utf8_line_is_read_as_utf8_and_a_line_in_neither_is_quarantined(tmp_path):
    raw = write_raw(tmp_path / "raw", customers=TURKISH_CUSTOMERS)
    _seed_mapping(raw, ('file = "customers.csv"\nformat = "csv"\nencoding = "utf-8"',
                        'file = "customers.csv"\nformat = "csv"\nencoding = "auto"'))
    path = raw / "customers.csv"
    lines = path.read_bytes().split(b"\n")
    utf8_line = lines[4]                                      # line 5 stays UTF-8 (customer 1000004)
    lines = [line.decode("utf-8").encode("cp1254") for line in lines]
    lines[4] = utf8_line
    lines[9] = lines[9].replace(b"Mu\xf0la", b"Mu\x81\x9ela")  # line 10: bytes neither encoding has
    path.write_bytes(b"\n".join(lines))
    db, report = load_dir(raw, tmp_path)
    assert report.failures == []
    names = dict(db.frame("SELECT customer_id, full_name FROM customers").rows())
    assert len(names) == 39
    assert names[1000004] == "Şule Ğündüz 4" and names[1000005] == "Şule Ğündüz 5"
    [row] = _quarantine(db, "customers.csv")
    assert row["line_number"] == 10 and "Mu\\x81\\x9ela" in row["raw_value"]
    notes = db.row("SELECT read_notes FROM etl_runs WHERE source_file = 'customers.csv'")[0]
    assert "Windows-1254" in notes and "1 line written in UTF-8 (line 5) read as UTF-8" in notes


def test_a_windows_1254_file_is_converted_in_chunks_and_its_utf8_lines_are_found_by_number(tmp_path, monkeypatch):
    monkeypatch.setattr(detect, "CHUNK_BYTES", 100)  # many chunks, most converted whole
    text = [f"{n};Müşteri {n};Ağrı" for n in range(1, 200)]
    lines = [line.encode("cp1254") for line in text]
    lines[149] = text[149].encode("utf-8")
    original, copy = tmp_path / "in.csv", tmp_path / "out.csv"
    original.write_bytes(b"\r\n".join(lines) + b"\r\n")
    assert detect.write_utf8_copy(original, copy) == [150]
    assert copy.read_bytes().decode("utf-8").split("\r\n") == [*text, ""]


def test_quarantine_line_numbers_are_physical_lines_after_quoted_line_breaks(tmp_path):
    customers = [{"customer_id": 1000001, "full_name": "Ayşe\nYılmaz"},             # lines 2-3
                 {"customer_id": 1000002},                                          # line 4
                 {"customer_id": 1000003, "email": "nope"},                         # line 5: cleared
                 {"customer_id": 1000005, "full_name": "a\r\nb\nc"},                # lines 6-8
                 {"customer_id": 1000006, "email": "bad"}]                          # line 9: cleared
    raw = write_raw(tmp_path / "raw", customers=customers)
    path = raw / "customers.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines.insert(5, "1000004,cut short")                                            # line 6: unreadable
    lines.insert(9, '1000007,"two\nlines",x,y')                                     # lines 10-11: unreadable
    path.write_text("\n".join(lines), encoding="utf-8")
    db, _ = load_dir(raw, tmp_path, max_rejected_share=1.0)
    found = [(r["line_number"], r["field"] if r["action"] == "value_cleared" else r["reason"].split(":")[0])
             for r in _quarantine(db, "customers.csv")]
    assert found == [(5, "email"), (6, "unreadable line"), (10, "unreadable line"), (12, "email")]


@pytest.mark.parametrize("typed_by_reader", [False, True])
def test_a_customer_number_that_is_not_a_number_keeps_its_raw_text_in_the_quarantine(tmp_path, typed_by_reader):
    hostile = "=cmd|' /C calc'!A0"
    raw = write_raw(tmp_path / "raw", customers=TURKISH_CUSTOMERS[:2], complaints=[
        {"complaint_id": 1, "customer_id": 1000001},
        {"complaint_id": 2, "customer_id": hostile}])
    if not typed_by_reader:  # read as text and cast by the model, as any mapping without reader types is
        _seed_mapping(raw, ('reader_types = { complaint_id = "BIGINT", customer_id = "BIGINT" }\n', ""))
    db, _ = load_dir(raw, tmp_path, max_rejected_share=1.0)
    [row] = _quarantine(db, "complaints.csv")
    assert (row["line_number"], row["field"]) == (3, "customer_id")
    # The reader keeps the whole line it could not type; the model keeps the value.
    assert hostile in row["raw_value"] if typed_by_reader else row["raw_value"] == hostile
    assert db.row("SELECT list(complaint_id) FROM complaints")[0] == [1]


def test_a_contact_duration_that_is_not_a_number_keeps_its_raw_text_when_cleared(tmp_path):
    raw = write_raw(tmp_path / "raw", customers=TURKISH_CUSTOMERS[:1], interactions=[
        {"interaction_id": 1, "customer_id": 1000001, "duration_seconds": "12s"}])
    _seed_mapping(raw, ('reader_types = { interaction_id = "BIGINT", customer_id = "BIGINT", '
                        'started_at = "TIMESTAMP", duration_seconds = "INTEGER", csat = "INTEGER" }\n', ""))
    db, _ = load_dir(raw, tmp_path)
    [row] = _quarantine(db, "interactions.csv")
    assert (row["field"], row["raw_value"], row["action"]) == ("duration_seconds", "12s", "value_cleared")
    assert db.row("SELECT duration_seconds FROM interactions")[0] is None


def test_two_lines_of_one_shop_order_with_the_same_product_are_two_purchases(tmp_path):
    from tests.test_file_patterns import HEADER, _company_with_orders

    orders = (HEADER + "#3001,ayse.yilmaz@example.com,paid,2026-10-01 10:00:00,1,Termos,50.00,Ayşe Yılmaz,İstanbul,\n"
              "#3001,ayse.yilmaz@example.com,,2026-10-01 10:00:00,2,Kupa,40.00,,,\n"
              "#3001,ayse.yilmaz@example.com,,2026-10-01 10:00:00,1,Termos ,50.00,,,\n")  # the same, spaced
    raw = _company_with_orders(tmp_path, {"orders-2026-10.csv": orders})
    db, report = load_dir(raw, tmp_path)
    assert db.frame("SELECT category, net_amount_try::DOUBLE AS amount FROM purchases WHERE order_id = 3001 "
                    "ORDER BY line_item, category").rows() == [("Kupa", 80.0), ("Termos", 50.0), ("Termos", 50.0)]
    counts = next(f.counts for f in report.files if f.source.file == "orders-2026-10.csv")
    assert (counts.rows_read, counts.rows_loaded, counts.rows_duplicate) == (3, 3, 0)


def test_json_comment_with_a_line_break_keeps_line_numbers(tmp_path):
    """JSON Lines escape line breaks inside values: a record is always one line."""
    surveys = [{"survey_id": 1, "customer_id": 1000001, "comment": "iki\nsatır"},
               {"survey_id": 2, "customer_id": 4242}]
    raw = write_raw(tmp_path / "raw", customers=TURKISH_CUSTOMERS[:1], surveys=surveys)
    assert json.loads((raw / "survey_responses.jsonl").read_text().splitlines()[0])["comment"] == "iki\nsatır"
    db, _ = load_dir(raw, tmp_path, max_rejected_share=1.0)
    assert [r["line_number"] for r in _quarantine(db, "survey_responses.jsonl")] == [2]


def test_only_the_first_lines_in_another_encoding_are_read_again_for_their_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr("etl.transform.ESCAPED_LINES", 1)  # a whole file in the wrong encoding costs no more
    raw = write_raw(tmp_path / "raw", customers=TURKISH_CUSTOMERS)
    _rewrite_line(raw / "customers.csv", 3, "cp1254")
    _rewrite_line(raw / "customers.csv", 5, "cp1254")
    db, _ = load_dir(raw, tmp_path)
    shown = [row["raw_value"] for row in _quarantine(db, "customers.csv")]
    assert shown[0].startswith("1000003,\\xdeule") and shown[1].startswith("1000005,?") and "\\x" not in shown[1]
