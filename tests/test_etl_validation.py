"""Every input row is accounted for: loaded, a duplicate, or quarantined with file, line, field
and reason. Bad files fail the run with one clear line and publish nothing."""
import re

import pytest

from crm360.store import Database, current_version
from etl.pipeline import LoadFailed, LoadParams, run_etl
from tests.conftest import load_dir
from tests.rawfiles import write_raw

CUSTOMERS = [{"customer_id": 1000001}, {"customer_id": 1000002, "full_name": "Mehmet Öztürk"}]


def _counts(db, file):
    return db.frame("SELECT * FROM etl_runs WHERE source_file = ?", [file]).row(0, named=True)


def _quarantine(db, file):
    return db.frame("SELECT * FROM quarantine WHERE source_file = ? ORDER BY line_number", [file])


def test_clean_rows_load_and_counts_reconcile(tmp_path):
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS,
                    interactions=[{"interaction_id": 1, "customer_id": 1000001}])
    db, report = load_dir(raw, tmp_path)
    for file_report in report.files:
        assert file_report.counts.reconciles
    row = _counts(db, "customers.csv")
    assert (row["rows_read"], row["rows_loaded"], row["rows_rejected"]) == (2, 2, 0)
    assert row["checksum"].startswith("blake3:") and len(row["checksum"]) == 7 + 64


def test_bad_rows_are_quarantined_with_line_field_and_reason(tmp_path):
    interactions = [
        {"interaction_id": 1, "customer_id": 1000001},                        # line 2: fine
        {"interaction_id": 2, "customer_id": 4242},                           # line 3: unknown customer
        {"interaction_id": 3, "customer_id": 1000001, "channel": "fax"},      # line 4: bad channel
        {"interaction_id": 4, "customer_id": 1000001, "started_at": "31.02.2026"},  # line 5
        {"interaction_id": 5, "customer_id": 1000001, "csat": "9"},           # line 6: value cleared
        {"interaction_id": "x", "customer_id": 1000001},                      # line 7: bad id
    ]
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS, interactions=interactions)
    db, _ = load_dir(raw, tmp_path, max_rejected_share=1.0)
    quarantined = _quarantine(db, "interactions.csv")
    found = {(r["line_number"], r["field"], r["action"]) for r in quarantined.iter_rows(named=True)}
    assert found == {(3, "customer_id", "row_rejected"), (4, "channel", "row_rejected"),
                     (5, "started_at", "row_rejected"), (6, "csat", "value_cleared"),
                     (7, "interaction_id", "row_rejected")}
    assert "unknown customer" in quarantined.filter(quarantined["line_number"] == 3)["reason"][0]
    row = _counts(db, "interactions.csv")
    assert (row["rows_read"], row["rows_loaded"], row["rows_rejected"], row["values_cleared"]) == (6, 2, 4, 1)
    assert db.row("SELECT csat FROM interactions WHERE interaction_id = 5")[0] is None


def test_unreadable_line_is_counted_with_its_line_number_and_later_lines_shift(tmp_path):
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS,
                    interactions=[{"interaction_id": 1, "customer_id": 1000001}])
    with open(raw / "interactions.csv", "a", encoding="utf-8") as handle:
        handle.write("2,1000001,2026-06-01 10:00:00,phone\n")  # line 3: cut short
        handle.write("3,1000001,2026-06-01 10:00:00,fax,inbound,x,A0001,1,true,,\n")  # line 4
    db, _ = load_dir(raw, tmp_path, max_rejected_share=1.0)
    quarantined = _quarantine(db, "interactions.csv")
    assert quarantined["line_number"].to_list() == [3, 4]
    assert "unreadable line" in quarantined["reason"][0]
    row = _counts(db, "interactions.csv")
    assert (row["rows_read"], row["rows_loaded"], row["rows_rejected"]) == (3, 1, 2)


def test_duplicates_collapse_by_natural_key_and_the_last_row_wins(tmp_path):
    customers = [*CUSTOMERS, {"customer_id": 1000001, "city": "Ankara"}]
    raw = write_raw(tmp_path / "raw", customers=customers)
    db, _ = load_dir(raw, tmp_path)
    row = _counts(db, "customers.csv")
    assert (row["rows_read"], row["rows_loaded"], row["rows_duplicate"]) == (3, 2, 1)
    assert db.row("SELECT city FROM customers WHERE customer_id = 1000001")[0] == "Ankara"


def test_normalisation_of_phones_emails_and_name_keys(tmp_path):
    customers = [{"customer_id": 1000001, "full_name": " İLKER   Şahin ", "phone": "(0532) 123-45-67",
                  "email": "  ILKER@Example.COM "},
                 {"customer_id": 1000002, "phone": "12345", "email": "nope"}]
    raw = write_raw(tmp_path / "raw", customers=customers)
    db, _ = load_dir(raw, tmp_path)
    row = db.frame("SELECT * FROM customers ORDER BY customer_id").row(0, named=True)
    assert (row["full_name"], row["name_key"], row["phone"], row["email"]) == (
        "İLKER Şahin", "ilker sahin", "+905321234567", "ilker@example.com")
    cleared = _quarantine(db, "customers.csv")
    assert set(cleared["field"]) == {"phone", "email"} and set(cleared["action"]) == {"value_cleared"}
    assert db.row("SELECT phone, email FROM customers WHERE customer_id = 1000002") == (None, None)


def test_sql_and_html_in_text_fields_are_stored_verbatim_and_never_run(tmp_path):
    hostile = "x'); DROP TABLE customers; -- <script>alert(1)</script> [a](javascript:x) ![i](http://x)"
    raw = write_raw(tmp_path / "raw", customers=[{"customer_id": 1000001, "full_name": hostile}],
                    interactions=[{"interaction_id": 1, "customer_id": 1000001, "notes": hostile}])
    db, _ = load_dir(raw, tmp_path)
    assert db.row("SELECT full_name FROM customers")[0] == hostile
    assert db.row("SELECT notes FROM interactions")[0] == hostile


def test_a_ten_megabyte_note_rejects_its_row_with_a_reason_and_the_rest_loads(tmp_path):
    interactions = [{"interaction_id": i, "customer_id": 1000001} for i in range(1, 40)]
    interactions.append({"interaction_id": 99, "customer_id": 1000001, "notes": "a" * 10_000_000})
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS, interactions=interactions)
    db, _ = load_dir(raw, tmp_path)
    quarantined = _quarantine(db, "interactions.csv")
    assert quarantined.height == 1
    assert quarantined["field"][0] == "notes" and "longer than" in quarantined["reason"][0]
    assert len(quarantined["raw_value"][0]) <= 2_000
    assert db.row("SELECT count(*) FROM interactions")[0] == 39


def test_turkish_excel_complaints_dates_and_decimal_comma(tmp_path):
    complaints = [{"complaint_id": 7, "customer_id": 1000001, "opened_at": "03.06.2026 09:15",
                   "first_response_at": "03.06.2026 10:15", "status": "in_progress",
                   "refund_amount_try": "1.234,56"}]
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS, complaints=complaints)
    db, _ = load_dir(raw, tmp_path)
    opened, answered, refund = db.row(
        "SELECT opened_at, first_response_at, refund_amount_try FROM complaints")
    assert str(opened) == "2026-06-03 09:15:00" and str(answered) == "2026-06-03 10:15:00"
    assert float(refund) == 1234.56


def test_unreadable_do_not_contact_flag_means_do_not_contact(tmp_path):
    raw = write_raw(tmp_path / "raw", customers=[{"customer_id": 1000001, "do_not_contact": "maybe"}])
    db, _ = load_dir(raw, tmp_path)
    assert db.row("SELECT do_not_contact FROM customers")[0] is True


def test_broken_json_line_is_a_quarantined_row(tmp_path):
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS,
                    surveys=[{"survey_id": 1, "customer_id": 1000001}])
    with open(raw / "survey_responses.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"survey_id": 2, "customer_id": \n')
    db, _ = load_dir(raw, tmp_path, max_rejected_share=1.0)
    quarantined = _quarantine(db, "survey_responses.jsonl")
    assert quarantined["line_number"].to_list() == [2]
    assert quarantined["reason"][0] == "not valid JSON"


@pytest.mark.parametrize("breakage, message", [
    (lambda raw: (raw / "customers.csv").write_bytes(b""), "customers.csv: file is empty"),
    (lambda raw: (raw / "customers.csv").write_text("customer_id,email\n1,a@b.co\n"),
     "customers.csv: missing column(s) full_name"),
])
def test_without_customers_nothing_is_published(tmp_path, breakage, message):
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS)
    breakage(raw)
    with pytest.raises(LoadFailed, match=re.escape(message) + ".*no earlier load of customers"):
        run_etl(LoadParams(raw_dir=raw, db_path=tmp_path / "db" / "crm.duckdb"))
    assert current_version(tmp_path / "db" / "crm.duckdb") is None


@pytest.mark.parametrize("breakage, message", [
    (lambda raw: (raw / "interactions.csv").unlink(), "interactions.csv: file not found"),
    (lambda raw: (raw / "interactions.csv").write_bytes(b""), "interactions.csv: file is empty"),
    (lambda raw: (raw / "purchases.parquet").write_bytes(b"\x00\x01not parquet" * 100),
     "purchases.parquet: cannot be read as parquet"),
    (lambda raw: (raw / "interactions.csv").write_bytes(bytes(range(256)) * 50), "interactions.csv: "),
    (lambda raw: (raw / "agents.csv").write_text("agent_id,full_name,team,shoe_size\nA1,Ece,Çağrı,38\n"),
     "agents.csv: unknown column(s) shoe_size"),
])
def test_a_file_that_cannot_be_loaded_fails_alone_and_keeps_its_previous_load(tmp_path, breakage, message):
    db_path = tmp_path / "db" / "crm.duckdb"
    good = write_raw(tmp_path / "good", customers=CUSTOMERS, interactions=[
        {"interaction_id": 1, "customer_id": 1000001}], purchases=[{"order_id": 1, "customer_id": 1000001}])
    run_etl(LoadParams(raw_dir=good, db_path=db_path))
    bad = write_raw(tmp_path / "bad", customers=[*CUSTOMERS, {"customer_id": 1000009}], interactions=[
        {"interaction_id": 1, "customer_id": 1000001}], purchases=[{"order_id": 1, "customer_id": 1000001}])
    breakage(bad)
    report = run_etl(LoadParams(raw_dir=bad, db_path=db_path))
    assert len(report.failures) == 1 and report.failures[0].startswith(message), report.failures
    db = Database(db_path)
    assert db.row("SELECT count(*) FROM customers")[0] == len(CUSTOMERS) + 1  # the other files loaded
    failed = next(f for f in report.files if f.failure)
    assert f"kept {failed.source.entity} from the previous load" in failed.failure
    assert db.row(f"SELECT count(*) FROM {failed.source.entity}")[0] >= 1
    assert db.row("SELECT failure FROM etl_runs WHERE run_id = ? AND failure IS NOT NULL",
                  [report.run_id])[0] == report.failures[0]


def test_too_many_rejected_rows_fail_the_file_and_keep_its_previous_load(tmp_path):
    good = write_raw(tmp_path / "good", customers=CUSTOMERS, interactions=[
        {"interaction_id": 1, "customer_id": 1000001}])
    db_path = tmp_path / "db" / "crm.duckdb"
    run_etl(LoadParams(raw_dir=good, db_path=db_path))
    bad = write_raw(tmp_path / "bad", customers=CUSTOMERS, interactions=[
        {"interaction_id": i, "customer_id": 4242} for i in range(10)])
    report = run_etl(LoadParams(raw_dir=bad, db_path=db_path))
    assert re.match(r"interactions.csv: 10 of 10 rows rejected .* unknown customer", report.failures[0])
    assert Database(db_path).row("SELECT list(interaction_id) FROM interactions")[0] == [1]
    assert not list(db_path.parent.glob("*.building*"))


@pytest.mark.parametrize("batch_rows", [3, 1_000_000])
def test_fact_tables_are_clustered_by_customer_and_time_whether_sorted_at_once_or_in_batches(
        tmp_path, monkeypatch, batch_rows):
    monkeypatch.setattr("etl.transform.SORT_BATCH_ROWS", batch_rows)
    customers = [{"customer_id": 1000000 + i} for i in range(1, 6)]
    interactions = [{"interaction_id": i, "customer_id": 1000000 + (i * 7) % 5 + 1,
                     "started_at": f"2026-06-{1 + (i * 11) % 28:02d} 10:00:00"} for i in range(1, 41)]
    raw = write_raw(tmp_path / "raw", customers=customers, interactions=interactions)
    db, _ = load_dir(raw, tmp_path)
    stored = db.frame("SELECT customer_id, started_at FROM interactions ORDER BY rowid")
    assert stored.height == 40
    assert stored.rows() == sorted(stored.rows())


def test_a_contact_whose_csat_or_duration_is_not_a_number_is_rejected_with_its_column(tmp_path):
    interactions = [{"interaction_id": 1, "customer_id": 1000001, "csat": "abc"},
                    {"interaction_id": 2, "customer_id": 1000001, "duration_seconds": "12s"},
                    *({"interaction_id": i, "customer_id": 1000001} for i in range(3, 60))]
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS, interactions=interactions)
    db, _ = load_dir(raw, tmp_path)
    quarantined = _quarantine(db, "interactions.csv")
    assert quarantined.select("line_number", "field", "action").rows() == [
        (2, "csat", "row_rejected"), (3, "duration_seconds", "row_rejected")]
    assert "not a valid value" in quarantined["reason"][0]


def test_every_staging_model_builds_its_problem_list_only_for_rows_with_a_problem():
    """The speed of a load rests on it (docs/benchmarks.md): a model whose checks no longer read
    `list_filter([...], lambda p: p IS NOT NULL) AS _problems` would build the list for every row."""
    from etl.sources import ENTITY_ORDER
    from etl.transform import render_sql

    for entity in ENTITY_ORDER:
        model = render_sql(f"staging/stg_{entity}.sql", raw="raw_rows")
        assert "CASE WHEN coalesce(" in model and ") IS NULL THEN [] ELSE list_filter([" in model, entity


def test_a_failed_file_counts_no_row_as_loaded_while_its_table_keeps_the_previous_load(tmp_path):
    db_path = tmp_path / "db" / "crm.duckdb"
    run_etl(LoadParams(raw_dir=write_raw(tmp_path / "good", customers=CUSTOMERS, interactions=[
        {"interaction_id": 1, "customer_id": 1000001}]), db_path=db_path))
    bad = write_raw(tmp_path / "bad", customers=CUSTOMERS, interactions=[
        *({"interaction_id": i, "customer_id": 1000001} for i in range(10, 13)),
        *({"interaction_id": i, "customer_id": 4242} for i in range(20, 27))])
    report = run_etl(LoadParams(raw_dir=bad, db_path=db_path))
    assert report.failures[0].startswith("interactions.csv: 7 of 10 rows rejected")
    db = Database(db_path)
    assert db.row("SELECT list(interaction_id) FROM interactions")[0] == [1]
    assert db.row("SELECT rows_read, rows_loaded, rows_rejected FROM etl_runs WHERE run_id = ? "
                  "AND source_file = 'interactions.csv'", [report.run_id]) == (10, 0, 7)
