"""Identity across systems: a CRM's customer file, a Zendesk-shaped helpdesk export and a
Shopify-shaped order export (tests/data/company, every expected figure counted by hand in its
README) load into one set of customers, with each merge and link recorded and explained."""
from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from crm360 import session
from crm360.audit import AuditLog
from crm360.identity_review import DecisionError, DecisionStore
from crm360.queries import customer, health
from crm360.store import Database
from etl.mapping import MappingError, read_mapping
from etl.pipeline import LoadParams, run_etl
from tests.conftest import differing_tables

ROOT = Path(__file__).resolve().parent.parent
COMPANY = ROOT / "tests" / "data" / "company"
MAPPINGS = [COMPANY / "crm.toml", ROOT / "etl" / "mappings" / "zendesk.toml",
            ROOT / "etl" / "mappings" / "shopify.toml"]
# The fixture's files are a dozen rows each, with a bad row in two of them on purpose.
ALLOWED_REJECTS = 0.3


def _load(raw: Path, db_path: Path, decisions: Path | None = None, mapping: list[Path] | None = MAPPINGS):
    report = run_etl(LoadParams(raw_dir=raw, db_path=db_path, mapping=mapping, max_rejected_share=ALLOWED_REJECTS,
                                decisions=decisions))
    return Database(db_path), report


@pytest.fixture(scope="module")
def company_path(tmp_path_factory) -> tuple[Path, object]:
    path = tmp_path_factory.mktemp("company") / "crm.duckdb"
    db, report = _load(COMPANY, path)
    db.close()
    return path, report


@pytest.fixture(scope="module")
def company(company_path):
    db = Database(company_path[0])
    yield db, company_path[1]
    db.close()


def _rows(db: Database, sql: str) -> list[tuple]:
    with db.cursor() as cur:
        return cur.execute(sql).fetchall()


def test_a_customer_registered_twice_with_the_same_email_and_phone_is_merged_into_the_lower_number(company):
    db, _ = company
    assert _rows(db, "SELECT merged_id, survivor_id, rule FROM customer_merges") == [
        (1003, 1002, "same e-mail and phone")]
    assert _rows(db, "SELECT count(*) FROM customers WHERE customer_id = 1003") == [(0,)]
    # The strictest consent of the two records: 1003 never agreed to e-mail, so 1002 is not mailed.
    assert _rows(db, "SELECT consent_email, consent_sms FROM customers WHERE customer_id = 1002") == [(False, False)]


def test_rows_without_our_customer_number_are_linked_by_external_id_email_or_phone(company):
    db, _ = company
    links = _rows(db, """SELECT source_file, coalesce(external_id, email, phone), customer_id, rule
                         FROM identity_links ORDER BY source_file DESC, customer_id, 2""")
    assert links == [
        ("tickets.csv", "1001", 1001, "external_id"),
        ("tickets.csv", "ayse.yilmaz@example.com", 1001, "email"),
        ("tickets.csv", "1003", 1002, "external_id"),            # a merged number finds its survivor
        ("tickets.csv", "mehmet.ozturk@example.com", 1002, "email"),
        ("tickets.csv", "can@work.example", 1008, "phone"),      # unknown e-mail, but 1008's phone
        ("tickets.csv", "selin.aydin@example.com", 1009, "new"),
        ("tickets.csv", "kaan.sahin@example.com", 1010, "new"),
        ("tickets.csv", "ali.demir@example.com", None, "ambiguous"),  # 1006's and 1007's e-mail
        ("orders.csv", "ayse.yilmaz@example.com", 1001, "email"),
        ("orders.csv", "zeynep.kaya@example.com", 1004, "email"),
        ("orders.csv", "selin.aydin@example.com", 1009, "new"),  # the helpdesk's new customer
        ("orders.csv", "kaan.s@example.com", 1010, "new"),       # another e-mail, the same phone
        ("orders.csv", "x@example.com", 1011, "new"),
    ]


def test_new_customers_are_made_once_across_systems_without_consent(company):
    db, _ = company
    assert _rows(db, """SELECT customer_id, full_name, email, phone, city, signup_date::VARCHAR, consent_email,
                               consent_sms, consent_phone, do_not_contact
                        FROM customers WHERE customer_id > 1008 ORDER BY 1""") == [
        (1009, "Selin Aydın", "selin.aydin@example.com", None, "Eskişehir", "2026-11-05", False, False, False, False),
        (1010, "Kaan Şahin", "kaan.sahin@example.com", "+905397778899", "Konya", "2026-11-07", False, False, False,
         False),
        (1011, "Deniz Ak", "x@example.com", None, "Mersin", "2026-11-09", False, False, False, False),
    ]


def test_a_merged_customers_history_follows_them(company):
    db, _ = company
    # Ticket 509 names 1003 as the requester's external id; survey 1 was answered as 1003.
    assert _rows(db, "SELECT customer_id FROM interactions WHERE interaction_id = 509") == [(1002,)]
    assert _rows(db, "SELECT customer_id FROM survey_responses WHERE survey_id = 1") == [(1002,)]
    record = customer.load_customer(db, 1002)
    assert sorted(record.interactions["interaction_id"]) == [503, 509]


def test_the_zendesk_export_becomes_contacts_and_complaints(company):
    db, _ = company
    assert _rows(db, """SELECT complaint_id, customer_id, channel, category, severity, status,
                               first_response_at::VARCHAR, resolved_at::VARCHAR, satisfaction_after
                        FROM complaints WHERE complaint_id IN (501, 503, 504) ORDER BY 1""") == [
        (501, 1001, "email", "late_delivery", "medium", "resolved", "2026-10-05 10:30:00", "2026-10-06 10:00:00", 5),
        (503, 1002, "phone", "defective_product", "critical", "in_progress", "2026-11-21 09:00:00", None, None),
        (504, 1008, "web_chat", "wrong_item", "low", "resolved", "2026-11-10 12:30:00", "2026-11-11 12:00:00", 1),
    ]
    assert _rows(db, "SELECT channel, direction, csat FROM interactions WHERE interaction_id = 505") == [
        ("social", "inbound", None)]


def test_the_shopify_export_becomes_one_purchase_per_line_item_with_the_orders_status(company):
    db, _ = company
    assert _rows(db, """SELECT order_id, customer_id, category, quantity, net_amount_try::VARCHAR, status,
                               ordered_at::VARCHAR
                        FROM purchases ORDER BY order_id, category""") == [
        (1001, 1001, "Kahve makinesi filtresi", 2, "200.00", "completed", "2026-11-01 10:00:00"),
        (1001, 1001, "Termos", 1, "50.50", "completed", "2026-11-01 10:00:00"),
        (1002, 1009, "Kupa", 1, "80.00", "returned", "2026-11-05 18:00:00"),
        (1003, 1010, "Blender", 1, "1200.00", "completed", "2026-11-07 09:00:00"),
        (1004, 1004, "Peçete", 4, "40.00", "cancelled", "2026-11-08 11:00:00"),
    ]


def test_every_row_is_accounted_for_and_bad_rows_are_quarantined_with_their_line(company):
    db, report = company
    counts = {f.source.file + ":" + f.source.entity: (f.counts.rows_read, f.counts.rows_loaded, f.counts.rows_merged,
                                                      f.counts.rows_rejected) for f in report.files}
    assert counts["customers.csv:customers"] == (8, 7, 1, 0)
    assert counts["customers in tickets.csv:customers"] == (8, 2, 5, 1)
    assert counts["customers in orders.csv:customers"] == (5, 1, 4, 0)
    assert counts["tickets.csv:interactions"] == (10, 8, 0, 2)
    assert counts["tickets.csv:complaints"] == (10, 8, 0, 2)
    assert counts["orders.csv:purchases"] == (6, 5, 0, 1)
    assert all(f.counts.reconciles for f in report.files)
    assert _rows(db, "SELECT source_file, entity, line_number, field, raw_value FROM quarantine ORDER BY ALL") == [
        ("orders.csv", "purchases", 7, "status", "pending"),
        ("tickets.csv", "complaints", 8, "customer_id", "no customer number, e-mail or phone in the row"),
        ("tickets.csv", "complaints", 11, "customer_id", "not linked to one customer: |ali.demir@example.com|"),
        ("tickets.csv", "interactions", 8, "customer_id", "no customer number, e-mail or phone in the row"),
        ("tickets.csv", "interactions", 11, "customer_id", "not linked to one customer: |ali.demir@example.com|"),
    ]
    files = health.run_files(db, report.run_id)
    assert files["reconciles"].all() and files["rows_merged"].sum() == 10


def test_pairs_the_exact_rules_leave_apart_are_listed_for_review(company):
    db, _ = company
    assert _rows(db, "SELECT customer_a, customer_b, reasons FROM identity_review") == [
        (1004, 1005, "same name and city, phones one digit apart"),
        (1006, 1007, "same e-mail"),
    ]
    pairs, total = health.review_pairs(db, {(1006, 1007)})
    assert total == 1 and pairs.row(0, named=True)["full_name_b"] == "Zeynep Kaya"


def test_a_merged_number_typed_in_the_search_finds_the_survivor(company):
    db, _ = company
    result = customer.search_customers(db, "1003")
    assert result.matches["customer_id"].to_list() == [1002]
    assert result.note == "Customer #1003 was merged into #1002 (same e-mail and phone); showing #1002."
    assert customer.merged_into(db, 1003) == (1002, "same e-mail and phone")
    assert customer.merged_into(db, 1002) is None


def test_review_decisions_are_kept_across_loads_and_applied(tmp_path):
    decisions = tmp_path / "decisions.sqlite"
    store = DecisionStore(decisions)
    store.decide(1007, 1006, same_person=False, decided_by="Elif Çelik", note="Ali's brother; a family mailbox")
    store.decide(1004, 1005, same_person=True, decided_by="Elif Çelik", note="typo in the phone")
    db, report = _load(COMPANY, tmp_path / "db" / "crm.duckdb", decisions)
    assert _rows(db, "SELECT count(*) FROM identity_review") == [(0,)]
    assert _rows(db, "SELECT merged_id, survivor_id, rule, evidence, decided_by FROM customer_merges ORDER BY 1") == [
        (1003, 1002, "same e-mail and phone", "mehmet.ozturk@example.com, +905332223344", None),
        (1005, 1004, "confirmed the same person", "typo in the phone", "Elif Çelik")]
    assert next(f for f in report.files if f.source.file == "customers.csv").counts.rows_merged == 2
    # A second load reads the same decisions: the list stays empty, nothing is merged twice.
    db.close()
    db, _ = _load(COMPANY, tmp_path / "db" / "crm.duckdb", decisions)
    assert _rows(db, "SELECT count(*) FROM customer_merges") == [(2,)]
    db.close()


def test_confirmed_pairs_chain_into_one_customer(tmp_path):
    store = DecisionStore(tmp_path / "d.sqlite")
    store.decide(1006, 1007, True, "Elif")
    store.decide(1007, 1008, True, "Elif")
    db, _ = _load(COMPANY, tmp_path / "db" / "crm.duckdb", tmp_path / "d.sqlite")
    assert _rows(db, "SELECT merged_id, survivor_id FROM customer_merges WHERE survivor_id = 1006 ORDER BY 1") == [
        (1007, 1006), (1008, 1006)]
    # The phone-linked ticket of 1008 follows it to 1006.
    assert _rows(db, "SELECT customer_id FROM interactions WHERE interaction_id = 504") == [(1006,)]
    db.close()


def test_two_loads_of_the_same_exports_give_the_same_tables(tmp_path):
    first, second = tmp_path / "a" / "crm.duckdb", tmp_path / "b" / "crm.duckdb"
    for path in (first, second):
        _load(COMPANY, path)[0].close()
    tables, different = differing_tables(first, second)
    assert {"customer_merges", "identity_links", "identity_review"} <= set(tables)
    assert not different, different


def test_the_mappings_in_the_raw_directory_are_combined(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(COMPANY, raw)
    for mapping in MAPPINGS[1:]:
        shutil.copy(mapping, raw / mapping.name)
    db, report = _load(raw, tmp_path / "db" / "crm.duckdb", mapping=None)
    assert sorted(p.name for p in report.mapping) == ["crm.toml", "shopify.toml", "zendesk.toml"]
    assert _rows(db, "SELECT count(*) FROM customers") == [(10,)]
    db.close()


def test_decisions_refuse_bad_input_and_keep_text_as_text(tmp_path):
    store = DecisionStore(tmp_path / "d.sqlite")
    with pytest.raises(DecisionError, match="themself"):
        store.decide(5, 5, True, "Elif")
    with pytest.raises(DecisionError, match="who decides"):
        store.decide(5, 6, True, "   ")
    with pytest.raises(DecisionError, match="10,000 characters"):
        store.decide(5, 6, True, "x" * 10_000)
    hostile = "'); DROP TABLE decisions; -- <script>alert(1)</script>"
    store.decide(6, 5, True, hostile, note="[x](javascript:alert(1))", at=datetime(2026, 11, 30, 9, 0))
    store.decide(5, 6, False, "Elif", at=datetime(2026, 11, 30, 10, 0))  # changes the decision
    [decision] = store.decisions()
    assert (decision.customer_a, decision.customer_b, decision.same_person, decision.decided_by) == (5, 6, False,
                                                                                                      "Elif")
    with store._connection() as con:
        assert con.execute("SELECT decided_by FROM history ORDER BY decided_at").fetchall() == [(hostile,), ("Elif",)]


@pytest.mark.parametrize(("change", "message"), [
    ('[source.identity]\n"Requester" = "full_name"\n', "needs an external_id, email or phone"),
    ('[source.identity]\n"Requester email" = "mailbox"\n', "not one of"),
    ('[source.derived]\nduration_seconds = { minutes_after = "solved_at", minutes = "x" }\n',
     "which no export column maps to"),
    ('[source.derived]\nduration_seconds = { add = "x" }\n', "needs exactly one of"),
    ('[source.derived]\nnotes = { digits_of = "Id" }\n', "both mapped from an export column and derived"),
])
def test_bad_identity_and_derived_settings_are_refused_with_where_and_why(tmp_path, change, message):
    mapping = tmp_path / "tickets.toml"
    mapping.write_text(f"""
[[source]]
entity = "interactions"
file = "tickets.csv"
key = ["interaction_id"]
[source.columns]
"Id" = "interaction_id"
"Created at" = "started_at"
"Subject" = "notes"
{change}""", encoding="utf-8")
    with pytest.raises(MappingError, match=message):
        read_mapping([COMPANY / "crm.toml", mapping])


def test_identity_is_refused_where_rows_carry_a_customer_number(tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text("""
[[source]]
entity = "survey_responses"
file = "s.jsonl"
format = "jsonl"
key = ["survey_id"]
columns = { survey_id = "survey_id", customer_id = "customer_id" }
identity = { email = "email" }
""", encoding="utf-8")
    with pytest.raises(MappingError, match="carry a customer number"):
        read_mapping([COMPANY / "crm.toml", mapping])


def _app(company_path, monkeypatch, tmp_path) -> AppTest:
    monkeypatch.setenv("CRM_DB", str(company_path[0]))
    monkeypatch.setenv("CRM_IDENTITY_DECISIONS", str(tmp_path / "decisions.sqlite"))
    monkeypatch.setenv("CRM_CAMPAIGNS", str(tmp_path / "campaigns.sqlite"))
    return AppTest.from_file("../dashboard.py", default_timeout=60)


def test_data_health_lists_the_possible_duplicates_and_saves_a_decision(company_path, monkeypatch, tmp_path):
    app = _app(company_path, monkeypatch, tmp_path)
    app.run()
    app.switch_page("pages/data-health.py").run()
    assert not app.exception, app.exception
    assert any("2 pairs to judge" in c.value for c in app.caption)
    [pair] = [s for s in app.selectbox if s.label == "Pair"]
    pair.select_index(1)
    app.radio[0].set_value("different people")
    [name] = [t for t in app.text_input if t.label == "Your name"]
    name.input("Elif <b>Çelik</b>")
    [save] = [b for b in app.button if b.label == "Save the decision"]
    save.click()
    app.run()
    assert not app.exception, app.exception
    assert any("1006 and 1007 stay apart" in s.value for s in app.success), [s.value for s in app.success]
    [decision] = DecisionStore(tmp_path / "decisions.sqlite").decisions()
    assert (decision.customer_a, decision.customer_b, decision.same_person, decision.decided_by) == (
        1006, 1007, False, "Elif <b>Çelik</b>")
    assert any("1 pairs to judge" in c.value for c in app.caption)  # the decided pair leaves the list
    session.flush_audit()  # the app writes its entries on a background thread
    [entry] = AuditLog().search(action="identity_decision")
    assert entry.detail == {"same_person": False, "decided_by": "Elif <b>Çelik</b>"}
    assert AuditLog().customers_of(entry.entry_id) == [1006, 1007]


def test_data_health_records_the_quarantine_and_the_customers_of_its_identity_tables(company_path, monkeypatch,
                                                                                      tmp_path):
    app = _app(company_path, monkeypatch, tmp_path)
    app.run()
    app.switch_page("pages/data-health.py").run()
    assert not app.exception, app.exception
    tables = {name: d.value for d in app.dataframe for name in ("raw_value", "customer_a", "survivor_id")
              if name in d.value.columns}
    session.flush_audit()
    lists = {e.detail.get("list"): e for e in AuditLog().search(action="list_view") if e.page == "data-health"}
    assert lists["quarantine"].detail["rows"] == len(tables["raw_value"]) > 0 and lists["quarantine"].detail["run"]
    pairs, merged = tables["customer_a"], tables["survivor_id"]
    for name, shown in (("possible duplicates", [*pairs["customer_a"], *pairs["customer_b"]]),
                        ("merged customer numbers", [*merged["merged_id"], *merged["survivor_id"]])):
        assert set(AuditLog().customers_of(lists[name].entry_id)) == {int(c) for c in shown} != set(), name


def test_a_link_to_a_merged_customer_number_opens_the_survivor(company_path, monkeypatch, tmp_path):
    app = _app(company_path, monkeypatch, tmp_path)
    app.query_params["customer"] = "1003"
    app.run()
    app.switch_page("pages/customer.py").run()
    assert not app.exception, app.exception
    assert any("merged into #1002" in i.value for i in app.info)
    assert any("Mehmet Öztürk" in str(m.value) for m in [*app.markdown, *app.header])
