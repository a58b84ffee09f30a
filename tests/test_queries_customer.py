"""The lookup an agent runs mid-call: every input form, bad input, and the 24-hour alerts."""
from datetime import datetime, timedelta

import pytest

from crm360 import record as views
from crm360.queries import customer
from tests.conftest import load_dir
from tests.rawfiles import write_raw

OPENED = datetime(2026, 6, 3, 9, 0)
CUSTOMERS = [
    {"customer_id": 1000001, "full_name": "Ayşe Yılmaz", "phone": "0532 123 45 67", "email": "ayse@example.com",
     "city": "İzmir", "birth_date": "1985-03-04"},
    {"customer_id": 1000002, "full_name": "IŞIK İNCE", "phone": "+90 544 000 11 22", "email": "isik@example.com"},
    {"customer_id": 1000003, "full_name": "Ayşe Kaya", "phone": "0532 123 45 67", "email": "kaya@example.com",
     "city": "Ankara", "birth_date": "1992-11-20"},
]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lookup")
    raw = write_raw(tmp / "raw", customers=CUSTOMERS,
                    complaints=[{"complaint_id": 1, "customer_id": 1000002,
                                 "opened_at": OPENED.strftime("%d.%m.%Y %H:%M"), "status": "open"}],
                    interactions=[{"interaction_id": 1, "customer_id": 1000001,
                                   "started_at": "2026-06-01 10:00:00", "notes": "**bold** <b>x</b>"}])
    database, _ = load_dir(raw, tmp)
    return database


def _ids(result):
    return result.matches["customer_id"].to_list() if not result.matches.is_empty() else []


@pytest.mark.parametrize("typed", ["1000002", "+90 544 000 11 22", "05440001122", "544.000.11.22",
                                   "ISIK@EXAMPLE.COM", " isik@example.com ", "ışık ince", "isik ince",
                                   "İNCE IŞIK", "ince", "IŞIK"])
def test_every_input_form_finds_the_customer(db, typed):
    assert _ids(customer.search_customers(db, typed))[0] == 1000002


def test_typing_without_turkish_letters_finds_them_and_partial_words_match(db):
    assert set(_ids(customer.search_customers(db, "ayse"))) == {1000001, 1000003}
    assert _ids(customer.search_customers(db, "ayse yil")) == [1000001]


def test_a_shared_phone_number_returns_every_holder(db):
    result = customer.search_customers(db, "0532 123 4567")
    assert result.kind == "phone" and set(_ids(result)) == {1000001, 1000003}


@pytest.mark.parametrize("typed", ["", "   ", None, "x" * 10_000, "ayse@", "0532 123 45", "532-12"])
def test_bad_input_gives_a_message_not_an_error(db, typed):
    result = customer.search_customers(db, typed)
    assert result.kind == "invalid" and result.message and result.matches.is_empty()


def test_a_short_number_is_a_customer_number_whatever_its_length(db):
    # Customer numbers are the company's own: CDNOW's run from 1, so "12345" is one, not a bad phone.
    assert customer.search_customers(db, "12345").kind == "customer_number"
    assert customer.search_customers(db, "1000002").matches["customer_id"].to_list() == [1000002]


@pytest.mark.parametrize("typed", ["'; DROP TABLE customers; --", "<script>alert(1)</script>",
                                   "%", "_", "ayse' OR '1'='1"])
def test_sql_and_html_in_the_box_match_nothing_and_break_nothing(db, typed):
    assert _ids(customer.search_customers(db, typed)) == []
    assert db.row("SELECT count(*) FROM customers")[0] == 3


def test_unknown_customer_has_no_profile(db):
    assert customer.customer_profile(db, 999) is None
    assert customer.customer_profile(db, 1000001)["full_name"] == "Ayşe Yılmaz"


def test_complaint_unanswered_for_25_hours_is_breached(db):
    record = customer.load_customer(db, 1000002)
    row = views.open_complaints(record, OPENED + timedelta(hours=25)).row(0, named=True)
    assert row["promise_state"] == "breached"


def test_complaint_unanswered_for_23_hours_is_due_in_1_hour(db):
    record = customer.load_customer(db, 1000002)
    row = views.open_complaints(record, OPENED + timedelta(hours=23)).row(0, named=True)
    assert row["promise_state"] == "due" and row["hours_to_deadline"] == pytest.approx(1.0)


def test_timeline_keeps_customer_text_as_text(db):
    timeline = views.timeline(customer.load_customer(db, 1000001))
    assert timeline["kind"].to_list() == ["contact"]
    assert timeline["detail"][0] == "**bold** <b>x</b>"


def test_fixed_defect_candidates_are_those_who_complained_before_the_fix(tmp_path):
    from crm360.queries import outreach

    products = [{"product_id": 10001, "name": "Nova Kulaklık", "category": "Elektronik", "list_price_try": 100.0},
                {"product_id": 10002, "name": "Atlas Saat", "category": "Elektronik", "list_price_try": 100.0}]
    issues = [{"issue_id": 1, "product_id": 10001, "title": "Şarj sorunu", "reported_at": "2026-05-01",
               "fix_shipped_at": "2026-06-10", "fix_description": "Güncelleme"},
              {"issue_id": 2, "product_id": 10002, "title": "Batarya", "reported_at": "2026-05-01",
               "fix_shipped_at": ""}]
    customers = [{"customer_id": 1000001}, {"customer_id": 1000002}, {"customer_id": 1000003},
                 {"customer_id": 1000004, "do_not_contact": "true"}]
    defect = {"category": "defective_product", "status": "resolved"}
    complaints = [
        {**defect, "complaint_id": 1, "customer_id": 1000001, "product_id": "10001", "opened_at": "01.06.2026 10:00"},
        {**defect, "complaint_id": 2, "customer_id": 1000002, "product_id": "10001", "opened_at": "20.06.2026 10:00"},
        {**defect, "complaint_id": 3, "customer_id": 1000003, "product_id": "10002", "opened_at": "01.06.2026 10:00"},
        {**defect, "complaint_id": 4, "customer_id": 1000004, "product_id": "10001", "opened_at": "01.06.2026 10:00"},
    ]
    raw = write_raw(tmp_path / "raw", customers=customers, products=products, product_issues=issues,
                    complaints=complaints)
    db, _ = load_dir(raw, tmp_path)
    assert outreach.fixed_issue_candidates(db)["customer_id"].to_list() == [1000001]


def test_overdue_list_holds_back_do_not_contact_and_waits_for_the_promise(tmp_path):
    from crm360.queries import outreach

    customers = [{"customer_id": 1000001}, {"customer_id": 1000002, "do_not_contact": "true"}]
    opened = OPENED.strftime("%d.%m.%Y %H:%M")
    complaints = [{"complaint_id": 1, "customer_id": 1000001, "opened_at": opened, "status": "open"},
                  {"complaint_id": 2, "customer_id": 1000002, "opened_at": opened, "status": "open"},
                  {"complaint_id": 3, "customer_id": 1000001, "opened_at": opened, "status": "in_progress",
                   "first_response_at": opened}]
    raw = write_raw(tmp_path / "raw", customers=customers, complaints=complaints)
    db, _ = load_dir(raw, tmp_path)
    assert outreach.overdue_complaints(db, OPENED + timedelta(hours=23)).is_empty()
    late = OPENED + timedelta(hours=25)
    assert outreach.overdue_complaints(db, late)["complaint_id"].to_list() == [1]
    assert outreach.overdue_counts(db, late) == {"overdue": 2, "do_not_contact": 1, "listed": 1}


def test_results_report_how_many_match_beyond_those_shown(db):
    result = customer.search_customers(db, "ayse", limit=1)
    assert result.total == 2 and result.matches.height == 1
    assert customer.search_customers(db, "0532 123 4567").total == 2


def test_whole_name_matches_rank_before_partial_ones(tmp_path):
    people = [{"customer_id": 1000010 + i, "full_name": name, "phone": f"0533 000 00 {i:02d}"}
              for i, name in enumerate(["Ali Kaya Demir", "Ali Kaya", "Alican Kayalı"])]
    # The partial matches were in touch more recently: whole names still come first.
    contacts = [{"interaction_id": i + 1, "customer_id": 1000010 + i, "started_at": f"2026-06-0{i + 1} 10:00:00"}
                for i in range(3)]
    database, _ = load_dir(write_raw(tmp_path / "raw", customers=people, interactions=contacts), tmp_path)
    assert _ids(customer.search_customers(database, "kaya ali")) == [1000011, 1000012, 1000010]
    assert _ids(customer.search_customers(database, "ali kaya demir")) == [1000010]
    assert _ids(customer.search_customers(database, "kayal")) == [1000012]


def test_the_warm_up_builds_the_name_index_and_a_failing_one_does_not_stop_lookups(db):
    from crm360.store import Database

    warmed = Database(db.published, warm_up=customer.warm_up)
    assert _ids(customer.search_customers(warmed, "isik ince")) == [1000002]
    assert warmed.warmed.wait(30)

    def broken(snapshot):
        raise RuntimeError("disk on fire")

    failing = Database(db.published, warm_up=broken)
    assert failing.row("SELECT count(*) FROM customers")[0] == 3
    assert failing.warmed.wait(30)
    assert customer.load_customer(failing, 1000001).profile["full_name"] == "Ayşe Yılmaz"


def test_a_lookup_reads_its_rows_from_one_snapshot_in_parallel(db):
    record = customer.load_customer(db, 1000001)
    assert record.interactions["notes"].to_list() == ["**bold** <b>x</b>"]
    assert record.complaints.is_empty() and "issue_title" in record.complaints.columns
    assert record.purchases.is_empty() and "product" in record.purchases.columns


def test_several_plausible_matches_open_nobody_and_a_unique_exact_match_opens_at_once(db):
    assert customer.search_customers(db, "ayse").to_open is None  # two Ayşes: the agent picks
    assert customer.search_customers(db, "0532 123 45 67").to_open is None  # a phone with two holders
    assert customer.search_customers(db, "1000002").to_open == 1000002  # a customer number
    assert customer.search_customers(db, "+90 544 000 11 22").to_open == 1000002  # a phone with one holder
    assert customer.search_customers(db, "KAYA@example.com").to_open == 1000003  # an exact e-mail
    assert customer.search_customers(db, "ayse yil").to_open == 1000001  # the one name that matches
    typo = customer.search_customers(db, "aysee yilmaz")  # found only by tolerating a typo: a guess
    assert typo.guessed and typo.total == 1 and typo.to_open is None
    assert customer.search_customers(db, "nobody").to_open is None


def test_the_match_list_tells_namesakes_apart_without_opening_anyone(db):
    table = customer.namesake_table(customer.search_customers(db, "0532 123 45 67").matches).sort("customer_id")
    assert table.columns == ["customer_id", "full_name", "city", "born", "phone_ends", "last_contact_at"]
    rows = table.to_dicts()
    assert [r["phone_ends"] for r in rows] == ["…4567", "…4567"]
    assert [r["born"] for r in rows] == [1985, 1992]
    assert [r["city"] for r in rows] == ["İzmir", "Ankara"]
    assert rows[0]["last_contact_at"] == datetime(2026, 6, 1, 10) and rows[1]["last_contact_at"] is None
    label = customer.match_label(rows[0])
    assert label == "Ayşe Yılmaz #1000001 · İzmir · born 1985 · phone …4567 · last contact 01.06.2026"
