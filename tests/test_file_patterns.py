"""Several files per source: a mapping's `file` may be a pattern (`orders-*.csv`); the files load
in name order into one table, each with its own row accounting and line numbers, and an order
that a later export repeats is loaded once, as the later file has it."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from crm360.store import Database
from etl.pipeline import LoadParams, run_etl

ROOT = Path(__file__).resolve().parent.parent
COMPANY = ROOT / "tests" / "data" / "company"
HEADER = ("Name,Email,Financial Status,Created at,Lineitem quantity,Lineitem name,Lineitem price,Billing Name,"
          "Billing City,Phone\n")
OCTOBER = (HEADER + "#2001,ayse.yilmaz@example.com,paid,2026-10-01 10:00:00,1,Termos,50.00,Ayşe Yılmaz,İstanbul,\n"
           "#2002,zeynep.kaya@example.com,paid,2026-10-02 10:00:00,2,Kupa,40.00,Zeynep Kaya,İzmir,\n")
NOVEMBER = (HEADER + "#2002,zeynep.kaya@example.com,refunded,2026-10-02 10:00:00,2,Kupa,40.00,Zeynep Kaya,İzmir,\n"
            "#2003,can.arslan@example.com,paid,2026-11-03 10:00:00,1,Çay,not a price,Can Arslan,Antalya,\n"
            "#2004,can.arslan@example.com,paid,2026-11-04 10:00:00,1,Kahve,120.00,Can Arslan,Antalya,\n")


def _company_with_orders(tmp_path: Path, files: dict[str, str]) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    for name in ("customers.csv", "survey_responses.jsonl", "crm.toml"):
        shutil.copy(COMPANY / name, raw / name)
    mapping = (ROOT / "etl" / "mappings" / "shopify.toml").read_text(encoding="utf-8")
    (raw / "shop.toml").write_text(mapping.replace('file = "orders.csv"', 'file = "orders-*.csv"'), encoding="utf-8")
    for name, text in files.items():
        (raw / name).write_text(text, encoding="utf-8")
    return raw


def _load(raw: Path, db_path: Path):
    report = run_etl(LoadParams(raw_dir=raw, db_path=db_path, max_rejected_share=0.5))
    return Database(db_path), report


def test_the_files_of_a_pattern_load_into_one_table_each_with_its_own_accounting(tmp_path):
    raw = _company_with_orders(tmp_path, {"orders-2026-10.csv": OCTOBER, "orders-2026-11.csv": NOVEMBER})
    db, report = _load(raw, tmp_path / "db" / "crm.duckdb")
    counts = {f.source.file: (f.counts.rows_read, f.counts.rows_loaded, f.counts.rows_duplicate,
                              f.counts.rows_rejected) for f in report.files if f.source.entity == "purchases"}
    # October's #2002 comes again in November, refunded: October's copy is the duplicate.
    assert counts == {"orders-2026-10.csv": (2, 1, 1, 0), "orders-2026-11.csv": (3, 2, 0, 1)}
    assert db.frame("SELECT order_id, status FROM purchases ORDER BY order_id").rows() == [
        (2001, "completed"), (2002, "returned"), (2004, "completed")]
    # The bad price is on line 3 of November's file, not of the files together.
    assert db.frame("SELECT source_file, line_number, field FROM quarantine").rows() == [
        ("orders-2026-11.csv", 3, "net_amount_try")]
    files = db.frame("SELECT source_file, checksum FROM etl_runs WHERE entity = 'purchases' ORDER BY 1")
    assert files["source_file"].to_list() == ["orders-2026-10.csv", "orders-2026-11.csv"]
    assert all(checksum.startswith("blake3:") for checksum in files["checksum"])
    assert db.frame("SELECT count(*) AS n FROM identity_links WHERE source_file LIKE 'orders-%'")["n"][0] == 4
    db.close()


def test_adding_a_new_export_loads_it_without_duplicating_the_rest(tmp_path):
    raw = _company_with_orders(tmp_path, {"orders-2026-10.csv": OCTOBER})
    db_path = tmp_path / "db" / "crm.duckdb"
    db, _ = _load(raw, db_path)
    assert db.frame("SELECT count(*) AS n FROM purchases")["n"][0] == 2
    db.close()
    (raw / "orders-2026-11.csv").write_text(NOVEMBER, encoding="utf-8")
    db, _ = _load(raw, db_path)
    assert db.frame("SELECT order_id, count(*) AS n FROM purchases GROUP BY ALL ORDER BY 1").rows() == [
        (2001, 1), (2002, 1), (2004, 1)]
    db.close()


def test_a_pattern_that_matches_nothing_fails_its_source_alone(tmp_path):
    raw = _company_with_orders(tmp_path, {})
    db, report = _load(raw, tmp_path / "db" / "crm.duckdb")
    assert report.failures == [f"orders-*.csv: no file in {raw} matches; purchases is empty (no earlier load to keep)"]
    assert db.frame("SELECT count(*) AS n FROM customers")["n"][0] == 7
    db.close()


BROKEN = (HEADER + "".join(f"#215{n},can.arslan@example.com,paid,2026-10-05 10:00:00,1,Çay,not a price,Can Arslan,"
                           "Antalya,\n" for n in range(3))
          + "#2159,can.arslan@example.com,paid,2026-10-05 10:00:00,1,Çay,10.00,Can Arslan,Antalya,\n")


def test_a_file_of_a_pattern_with_too_many_rejected_rows_fails_alone_and_loads_none_of_its_rows(tmp_path):
    raw = _company_with_orders(tmp_path, {"orders-2026-10.csv": OCTOBER, "orders-2026-10b.csv": BROKEN,
                                          "orders-2026-11.csv": NOVEMBER})
    db, report = _load(raw, tmp_path / "db" / "crm.duckdb")
    assert len(report.failures) == 1
    assert report.failures[0].startswith("orders-2026-10b.csv: 3 of 4 rows rejected (75.0%), more than the 50% allowed")
    assert report.failures[0].endswith("none of its rows loaded, the other 2 files of orders-*.csv did")
    assert db.frame("SELECT order_id, status FROM purchases ORDER BY order_id").rows() == [
        (2001, "completed"), (2002, "returned"), (2004, "completed")]
    # etl_runs counts as loaded exactly the rows the table has from each file: October's 2001
    # (its 2002 is November's now), none of the failed file's, November's 2002 and 2004.
    runs = db.frame("SELECT source_file, rows_read, rows_loaded, rows_rejected, failure IS NOT NULL AS failed "
                    "FROM etl_runs WHERE entity = 'purchases' ORDER BY source_file").rows()
    assert runs == [("orders-2026-10.csv", 2, 1, 0, False), ("orders-2026-10b.csv", 4, 0, 3, True),
                    ("orders-2026-11.csv", 3, 2, 1, False)]
    assert sum(row[2] for row in runs) == db.frame("SELECT count(*) AS n FROM purchases")["n"][0]
    # Its bad rows are still in the quarantine, for a person to see why it failed.
    assert db.frame("SELECT count(*) AS n FROM quarantine WHERE source_file = 'orders-2026-10b.csv'")["n"][0] == 3
    db.close()


def test_a_file_of_a_pattern_that_cannot_be_read_fails_alone(tmp_path):
    raw = _company_with_orders(tmp_path, {"orders-2026-10.csv": OCTOBER, "orders-2026-11.csv": "Name,Email\n#1,x\n"})
    db, report = _load(raw, tmp_path / "db" / "crm.duckdb")
    assert len(report.failures) == 1 and report.failures[0].startswith("orders-2026-11.csv: missing column(s)")
    assert db.frame("SELECT order_id FROM purchases ORDER BY order_id")["order_id"].to_list() == [2001, 2002]
    db.close()


def test_when_every_file_of_a_pattern_fails_the_previous_load_stays_and_none_is_counted_as_loaded(tmp_path):
    raw = _company_with_orders(tmp_path, {"orders-2026-10.csv": OCTOBER})
    db_path = tmp_path / "db" / "crm.duckdb"
    _load(raw, db_path)[0].close()
    (raw / "orders-2026-10.csv").write_text(BROKEN, encoding="utf-8")
    db, report = _load(raw, db_path)
    assert report.failures[0].endswith("kept purchases from the previous load (2 rows)")
    assert db.frame("SELECT order_id FROM purchases ORDER BY order_id")["order_id"].to_list() == [2001, 2002]
    assert db.row("SELECT rows_loaded FROM etl_runs WHERE run_id = ? AND entity = 'purchases'", [report.run_id])[0] == 0
    db.close()


def test_what_the_etl_prints_shows_control_characters_escaped_and_a_binary_header_shortened(tmp_path):
    hostile = "orders-3\x1b[31mRED\x1b]0;pwned\x07.csv"
    raw = _company_with_orders(tmp_path, {"orders-2026-10.csv": OCTOBER, hostile: NOVEMBER})
    binary = bytes(byte for byte in range(256) if byte not in b',"\r\n')
    (raw / "orders-4.csv").write_bytes(b"\x7fELF\x02\x01\x01\x00" + binary * 4 + b"\n")
    result = subprocess.run([sys.executable, "-m", "etl", "--raw", str(raw), "--db", str(tmp_path / "crm.duckdb"),
                             "--max-rejected", "0.5"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 3, result.stderr
    printed = result.stdout + result.stderr
    assert not any(control in printed for control in ("\x1b", "\x07", "\x00", "\x7f"))
    assert "loaded" in printed and printed.count("orders-3\\x1b[31mRED\\x1b]0;pwned\\x07.csv") >= 3
    failure = next(line for line in result.stderr.splitlines() if line.startswith("etl: orders-4.csv"))
    # the header's start, each byte escaped once (not `\\\\x00`), and short enough to read
    assert "the header is not UTF-8 text (column “" in failure and "~\\x7f\\x80\\x81" in failure
    assert "\\\\" not in failure and len(failure) < 300, failure
