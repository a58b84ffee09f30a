"""The next ETL run reads the agent desk as one more source: its calls and complaints count in the
KPIs, its consent changes reach the customer, its rows are accounted for, and the page does not
show them twice."""
from datetime import timedelta

from crm360.desk import DeskStore
from crm360.queries.customer import load_customer
from crm360.store import Database
from etl.pipeline import LoadParams, run_etl

KPI = ("contacts", "inbound_contacts", "resolved_first_contact", "complaints_opened", "complaints_answered")


def _kpis(db: Database, day) -> dict[str, int]:
    row = db.row(f"SELECT {', '.join(KPI)} FROM kpi_daily WHERE day = ?", [day])
    return dict(zip(KPI, row, strict=True))


def test_the_next_load_counts_the_desk_call_complaint_and_consent(small_raw, small_db, tmp_path, monkeypatch):
    as_of = small_db.row("SELECT data_as_of FROM dataset_info")[0]
    now = as_of - timedelta(hours=1)
    customer, consent_sms = small_db.row("""SELECT customer_id, consent_sms FROM customer_summary
                                            WHERE consent_sms AND NOT do_not_contact ORDER BY customer_id LIMIT 1""")
    loaded_complaint, owner = small_db.row("""SELECT complaint_id, customer_id FROM complaints
                                              WHERE status <> 'resolved'
                                              ORDER BY complaint_id LIMIT 1""")
    desk = DeskStore(tmp_path / "desk.sqlite")
    monkeypatch.setenv("CRM_DESK", str(desk.path))
    call = desk.log_call(customer, "deniz", "billing", "resolved_first_contact", "Çözüldü", now=now)
    complaint = desk.open_complaint(customer, "deniz", "billing_error", "high", None, "Fazla çekim", now=now)
    desk.update_complaint(loaded_complaint, "ayse", resolution="Arandı, çözüldü", customer_id=owner,
                          expected_version=0, now=now)
    desk.record_consent(customer, "deniz", "sms", False, now=now)
    report = run_etl(LoadParams(raw_dir=small_raw, db_path=tmp_path / "db" / "crm.duckdb", desk=desk.path))
    db = Database(tmp_path / "db" / "crm.duckdb")
    try:
        before, after = _kpis(small_db, now.date()), _kpis(db, now.date())
        assert {k: after[k] - before[k] for k in KPI} == {
            "contacts": 1, "inbound_contacts": 1, "resolved_first_contact": 1, "complaints_opened": 1,
            "complaints_answered": 0}
        assert db.row("SELECT status, resolution FROM complaints WHERE complaint_id = ?", [loaded_complaint]) == (
            "resolved", "Arandı, çözüldü")
        assert db.row("SELECT consent_sms FROM customers WHERE customer_id = ?", [customer]) == (False,)
        assert db.row("SELECT consent_sms FROM marketing_consent WHERE customer_id = ?", [customer]) == (False,)
        assert consent_sms
        loaded = {f.source.entity: f.counts.rows_loaded for f in report.files if f.source.entity.startswith("desk_")}
        assert loaded == {"desk_calls": 1, "desk_complaints": 2, "desk_consent": 1}
        assert db.row("SELECT sum(rows_loaded) FROM etl_runs WHERE entity LIKE 'desk_%'") == (4,)
        assert db.row("SELECT loaded_through FROM desk_intake") == (desk.last_cursor(),)
        record = load_customer(db, customer)  # loaded now: shown once, not once more from the desk
        assert record.interactions.filter(record.interactions["interaction_id"] == call).height == 1
        assert record.complaints.filter(record.complaints["complaint_id"] == complaint).height == 1
    finally:
        db.close()
