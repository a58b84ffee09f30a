"""customer_summary and kpi_daily on a fixture small enough to compute by hand."""
from datetime import date, datetime

import pytest

from crm360.queries import trends
from tests.conftest import load_dir
from tests.rawfiles import write_raw

CUSTOMERS = [{"customer_id": 1000001, "full_name": "Ayşe Yılmaz", "signup_date": "2026-05-01"},
             {"customer_id": 1000002, "full_name": "Mehmet Öz", "signup_date": "2026-05-02"},
             {"customer_id": 1000003, "full_name": "Işık İnce", "signup_date": "2026-06-02"}]
PURCHASES = [
    {"order_id": 1, "customer_id": 1000001, "ordered_at": "2026-06-01 09:00:00", "net_amount_try": 100.0},
    {"order_id": 2, "customer_id": 1000001, "ordered_at": "2026-06-03 09:00:00", "net_amount_try": 300.0},
    {"order_id": 3, "customer_id": 1000001, "ordered_at": "2026-06-03 10:00:00", "net_amount_try": 50.0,
     "status": "returned"},
    {"order_id": 4, "customer_id": 1000002, "ordered_at": "2026-06-02 09:00:00", "net_amount_try": 80.0,
     "status": "cancelled"},
    {"order_id": 5, "customer_id": 1000002, "ordered_at": "2026-06-02 11:00:00", "net_amount_try": 200.0},
]
COMPLAINTS = [
    {"complaint_id": 1, "customer_id": 1000001, "opened_at": "01.06.2026 10:00",
     "first_response_at": "01.06.2026 20:00", "resolved_at": "02.06.2026 10:00", "status": "resolved"},
    {"complaint_id": 2, "customer_id": 1000001, "opened_at": "02.06.2026 08:00",
     "first_response_at": "03.06.2026 12:00", "status": "in_progress"},
    {"complaint_id": 3, "customer_id": 1000002, "opened_at": "03.06.2026 09:00", "status": "open"},
]
INTERACTIONS = [
    {"interaction_id": 1, "customer_id": 1000001, "started_at": "2026-06-01 10:00:00", "csat": "5"},
    {"interaction_id": 2, "customer_id": 1000001, "started_at": "2026-06-02 08:00:00", "channel": "email",
     "resolved_on_first_contact": "false", "csat": "2"},
    {"interaction_id": 3, "customer_id": 1000002, "started_at": "2026-06-04 12:00:00", "channel": "web_chat",
     "direction": "outbound"},
]
SURVEYS = [
    {"survey_id": 1, "customer_id": 1000001, "responded_at": "2026-06-02 12:00:00", "nps_score": 10},
    {"survey_id": 2, "customer_id": 1000002, "responded_at": "2026-06-03 12:00:00", "nps_score": 3},
    {"survey_id": 3, "customer_id": 1000001, "responded_at": "2026-06-03 13:00:00", "nps_score": 8},
]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("marts")
    raw = write_raw(tmp / "raw", customers=CUSTOMERS, purchases=PURCHASES, complaints=COMPLAINTS,
                    interactions=INTERACTIONS, surveys=SURVEYS)
    database, _ = load_dir(raw, tmp)
    return database


def test_data_as_of_is_the_newest_event(db):
    assert db.row("SELECT data_as_of FROM dataset_info")[0] == datetime(2026, 6, 4, 12, 0)


def test_customer_summary_by_hand(db):
    rows = {r["customer_id"]: r for r in db.frame("SELECT * FROM customer_summary").iter_rows(named=True)}
    a, b, c = rows[1000001], rows[1000002], rows[1000003]
    assert (a["orders"], float(a["net_revenue_try"]), a["returned_orders"]) == (2, 400.0, 1)
    assert float(a["average_order_value_try"]) == 200.0
    assert (a["first_purchase_at"], a["last_purchase_at"]) == (datetime(2026, 6, 1, 9), datetime(2026, 6, 3, 9))
    assert (a["open_complaints"], a["oldest_open_complaint_age_hours"]) == (1, 52)
    assert (a["contacts"], a["last_contact_channel"], a["last_nps_score"]) == (2, "email", 8)
    assert (b["orders"], float(b["net_revenue_try"]), b["cancelled_orders"]) == (1, 200.0, 1)
    assert (b["open_complaints"], b["oldest_open_complaint_age_hours"]) == (1, 27)
    assert (c["orders"], float(c["net_revenue_try"]), c["average_order_value_try"]) == (0, 0.0, None)
    assert c["open_complaints"] == 0 and c["oldest_open_complaint_at"] is None


def test_kpi_daily_by_hand(db):
    days = {r["day"]: r for r in db.frame("SELECT * FROM kpi_daily").iter_rows(named=True)}
    first, second, third, fourth = (days[date(2026, 6, d)] for d in (1, 2, 3, 4))
    assert (first["orders"], float(first["net_revenue_try"]), first["new_customers"]) == (1, 100.0, 1)
    assert (second["orders"], second["cancelled_orders"], second["new_customers"]) == (1, 1, 1)
    assert (third["orders"], third["returned_orders"], third["new_customers"]) == (1, 1, 0)
    promise = ("complaints_due", "answered_within_promise", "first_response_hours_sum")
    assert tuple(first[k] for k in promise) == (1, 1, 10)
    assert tuple(second[k] for k in promise) == (1, 0, 28)
    assert (third["complaints_opened"], third["complaints_due"], third["complaints_answered"]) == (1, 1, 0)
    assert first["resolved_first_contact"] == 1
    assert (second["inbound_with_outcome"], second["resolved_first_contact"]) == (1, 0)
    assert (fourth["contacts"], fourth["inbound_contacts"]) == (1, 0)
    assert (third["nps_responses"], third["nps_promoters"], third["nps_detractors"]) == (2, 0, 1)
    assert second["complaints_resolved"] == 1
    assert sum(r["signups"] for r in days.values()) == 1  # only the June sign-up falls in range


def test_the_trend_marts_agree_with_kpi_daily_and_form_ratios_after_summing(db):
    june = trends.TrendFilter(date(2026, 6, 1), date(2026, 6, 30))
    figures = {kpi: value["now"] for kpi, value in trends.kpis(db, june).items()}
    assert (figures["net_revenue_try"], figures["orders"], figures["complaints_opened"]) == (600.0, 3, 3)
    assert figures["within_promise_share"] == pytest.approx(1 / 3)
    assert figures["first_contact_resolution"] == pytest.approx(1 / 2)
    assert figures["csat"] == pytest.approx(1 / 2)
    assert figures["nps"] == pytest.approx(0.0)
    assert figures["average_order_value_try"] == pytest.approx(200.0)
    daily = db.row("""SELECT sum(net_revenue_try), sum(orders), sum(complaints_opened) FROM kpi_daily
                      WHERE day BETWEEN '2026-06-01' AND '2026-06-30'""")
    assert (float(daily[0]), daily[1], daily[2]) == (600.0, 3, 3)


def test_an_empty_period_gives_no_figures_not_an_error(db):
    empty = trends.kpis(db, trends.TrendFilter(date(2020, 1, 1), date(2020, 2, 1)))
    assert empty["orders"]["now"] is None and empty["nps"]["now"] is None
