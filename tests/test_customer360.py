"""The agent's view of one customer: alerts, talking points, the timeline and the tabs, on a
hand-built customer whose every number is known."""
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from crm360 import record as views
from crm360.queries import customer
from tests.conftest import load_dir
from tests.rawfiles import write_raw

NOW = datetime(2026, 6, 30, 12, 0)  # the newest event below, so the data clock reads this
CID, OTHER = 1000001, 1000002


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _tr(moment: datetime) -> str:
    return moment.strftime("%d.%m.%Y %H:%M")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("c360")
    customers = [{"customer_id": CID, "full_name": "Ayşe Yılmaz", "birth_date": "1980-07-03",
                  "signup_date": "2024-01-01"},
                 {"customer_id": OTHER, "full_name": "Mehmet Öz", "birth_date": "1990-01-01"}]
    # 120 contacts, one a day, the newest 20 days before NOW; one bad CSAT 10 days ago, one 40.
    interactions = [{"interaction_id": i, "customer_id": CID, "started_at": _ts(NOW - timedelta(days=20 + i)),
                     "channel": "phone" if i % 2 else "email", "topic": "order_status"} for i in range(1, 121)]
    interactions += [{"interaction_id": 500, "customer_id": CID, "started_at": _ts(NOW - timedelta(days=10)),
                      "channel": "web_chat", "csat": "1", "topic": "billing"},
                     {"interaction_id": 501, "customer_id": CID, "started_at": _ts(NOW - timedelta(days=40)),
                      "channel": "web_chat", "csat": "2", "topic": "billing"},
                     {"interaction_id": 502, "customer_id": OTHER, "started_at": _ts(NOW)}]
    # Orders every 10 days until 100 days ago (so the customer has gone quiet), one return.
    purchases = [{"order_id": i, "customer_id": CID, "ordered_at": _ts(NOW - timedelta(days=100 + 10 * i)),
                  "net_amount_try": 1000.0} for i in range(10)]
    purchases += [{"order_id": 50, "customer_id": CID, "ordered_at": _ts(NOW - timedelta(days=5)),
                   "net_amount_try": 250.0, "status": "returned"},
                  {"order_id": 51, "customer_id": OTHER, "ordered_at": _ts(NOW - timedelta(days=3)),
                   "net_amount_try": 10.0}]
    complaints = [
        {"complaint_id": 1, "customer_id": CID, "opened_at": _tr(NOW - timedelta(days=2)), "channel": "phone",
         "category": "late_delivery", "status": "open"},
        {"complaint_id": 2, "customer_id": CID, "opened_at": _tr(datetime(2026, 5, 1, 10)),
         "first_response_at": _tr(datetime(2026, 5, 1, 14)), "resolved_at": _tr(datetime(2026, 5, 3, 10)),
         "category": "defective_product", "product_id": "10001", "status": "resolved"},
    ]
    issues = [{"issue_id": 1, "product_id": 10001, "title": "Nova Kulaklık: Şarj sorunu",
               "reported_at": "2026-04-01", "fix_shipped_at": "2026-06-01", "fix_description": "Güncelleme"}]
    surveys = [{"survey_id": 1, "customer_id": CID, "responded_at": _ts(NOW - timedelta(days=3)), "nps_score": 4,
                "touchpoint": "delivery"}]
    raw = write_raw(tmp / "raw", customers=customers, interactions=interactions, purchases=purchases,
                    complaints=complaints, product_issues=issues, surveys=surveys)
    database, _ = load_dir(raw, tmp)
    assert database.row("SELECT data_as_of FROM dataset_info")[0] == NOW
    return database


@pytest.fixture(scope="module")
def rec(db):
    return customer.load_customer(db, CID)


def test_timeline_pages_through_everything_with_no_cap(rec):
    everything = views.timeline(rec)
    total = everything.height
    # 122 contacts + 11 orders + complaint events (1 opened; 1 opened/answered/resolved) + 1 survey
    assert total == 122 + 11 + 4 + 1
    pages = [everything.slice(o, 50) for o in range(0, total, 50)]
    assert [p.height for p in pages] == [50, 50, total - 100]
    moments = [m for p in pages for m in p["happened_at"].to_list()]
    assert moments == sorted(moments, reverse=True)
    keys = {(s, i) for p in pages for s, i in zip(p["source"], p["source_id"], strict=True)}
    assert len(keys) == total - 2  # the resolved complaint appears three times (opened, answered, resolved)


def test_timeline_filters_by_kind_channel_and_dates(rec):
    assert views.timeline(rec, kinds=("return",)).height == 1
    assert views.timeline(rec, kinds=("purchase",)).height == 10
    assert views.timeline(rec, kinds=("contact",), channels=("web_chat",)).height == 2
    recent = views.timeline(rec, start=NOW - timedelta(days=6), end=NOW)
    assert set(recent["kind"]) == {"return", "complaint", "survey"}
    steps = views.timeline(rec, kinds=("complaint",))["summary"].to_list()
    assert steps == ["late delivery — opened", "defective product — resolved",
                     "defective product — answered", "defective product — opened"]


def test_recent_warnings_cover_bad_csat_detractors_and_returns_of_the_last_30_days(db, rec):
    warnings = views.recent_warnings(rec, NOW)
    assert warnings["kind"].to_list() == ["detractor", "return", "bad_csat"]
    assert warnings["source_id"].to_list() == [1, 50, 500]  # the 40-day-old CSAT is left out
    assert views.recent_warnings(customer.load_customer(db, OTHER), NOW).is_empty()


def test_talking_points_are_generated_and_traceable(rec):
    points = {p.text: (p.source, p.source_id) for p in views.talking_points(rec, NOW)}
    assert points["Called 2 days ago about late delivery; still open, not yet answered"] == ("complaints", 1)
    fixed = [t for t in points if t.startswith("Complained about the Nova Kulaklık defect")]
    assert fixed and "fixed since 01.06.2026: tell them" in fixed[0] and points[fixed[0]] == ("complaints", 2)
    assert points["Birthday this week (03.07, turns 46)"] == ("customers", CID)
    assert "Last bought 100 days ago; usually every 10 days" in points
    assert any(t.startswith("Top 1% by value") for t in points)


def test_talking_points_name_their_source_in_words_not_tables(rec):
    cited = {p.text.split(" (")[0].split(";")[0]: p.cited for p in views.talking_points(rec, NOW)}
    assert cited["Called 2 days ago about late delivery"] == "complaint #1"
    assert cited["Top 1% by value"] == "customer record"
    assert cited["Birthday this week"] == "customer record"
    assert views.source_in_words("purchases", 50) == "order #50"
    assert views.source_in_words("survey_responses", 3) == "survey answer #3"
    assert not any(table in p.cited for p in views.talking_points(rec, NOW)
                   for table in ("complaints", "customer_summary", "customers", "purchases"))


@pytest.mark.parametrize(("share", "rank"), [(0.0, "top 1% by value"), (0.055, "top 6% by value"),
                                             (0.2, "top 20% by value"), (0.21, None), (None, None)])
def test_the_value_rank_has_one_rule_and_one_wording_for_header_and_talking_points(rec, share, rank):
    profile = {**rec.profile, "value_top_share": share}
    assert views.value_rank(profile) == rank
    value_points = [p.text for p in views.talking_points(replace(rec, profile=profile), NOW) if "by value" in p.text]
    assert value_points == ([rank[0].upper() + rank[1:] + " (₺10,000 so far, 10 orders)"] if rank else [])


def _rows(frame: pl.DataFrame, rows: list[dict]) -> pl.DataFrame:
    """Hand-built rows in the loaded frame's columns and types (missing columns empty)."""
    return pl.DataFrame([{c: row.get(c) for c in frame.columns} for row in rows], schema=frame.schema)


def _survey(survey_id: int, days_before: float, score: int, comment: str | None = None) -> dict:
    return {"survey_id": survey_id, "responded_at": NOW - timedelta(days=days_before), "touchpoint": "delivery",
            "nps_score": score, "comment": comment}


def test_a_detractor_alert_only_when_the_latest_answer_is_a_detractor_with_their_comment(rec):
    quiet = replace(rec, interactions=rec.interactions.clear(), purchases=rec.purchases.clear(),
                    complaints=rec.complaints.clear())
    later_happy = replace(quiet, surveys=_rows(rec.surveys, [_survey(1, 10, 2, "Kargo geç"), _survey(2, 2, 9)]))
    assert views.alerts(later_happy, NOW) == []
    later_unhappy = replace(quiet, surveys=_rows(rec.surveys, [_survey(1, 10, 9), _survey(2, 2, 3, "Kargo geç")]))
    [alert] = views.alerts(later_unhappy, NOW)
    assert (alert.level, alert.cited) == ("warning", "survey answer #2")
    assert "NPS 3/10" in alert.text and "“Kargo geç”" in alert.text and "2 days ago" in alert.text
    assert views.opening_line([alert]).startswith("I see you weren't happy with us when we asked 2 days ago")


def _complaint(complaint_id: int, hours_old: float, severity: str, answered: bool, category: str = "rude_staff"):
    opened = NOW - timedelta(hours=hours_old)
    return {"complaint_id": complaint_id, "opened_at": opened, "channel": "phone", "category": category,
            "severity": severity, "status": "in_progress" if answered else "open",
            "first_response_at": opened + timedelta(hours=2) if answered else None}


@pytest.mark.parametrize(("hours_old", "severity", "answered", "level"), [
    (13 * 24, "low", True, "error"),      # answered but open for 13 days: not a calm blue box
    (8 * 24, "medium", True, "error"),    # past COMPLAINT_ERROR_DAYS
    (4 * 24, "low", True, "warning"),     # past COMPLAINT_WARNING_DAYS
    (24, "low", True, "info"),            # answered, a day old
    (24, "high", True, "error"),          # severe: urgent at once
    (5, "low", False, "warning"),         # no answer yet, within the 24-hour promise
    (30, "low", False, "error"),          # no answer after 24 h: the promise is breached
])
def test_an_unresolved_complaint_grows_more_urgent_with_age_and_severity(rec, hours_old, severity, answered, level):
    complaints = _rows(rec.complaints, [_complaint(7, hours_old, severity, answered)])
    record = replace(rec, complaints=complaints, surveys=rec.surveys.clear(), interactions=rec.interactions.clear(),
                     purchases=rec.purchases.clear())
    [alert] = views.alerts(record, NOW)
    assert (alert.level, alert.cited) == (level, "complaint #7")
    assert alert.opening.startswith("I see your rude staff complaint from ")


def test_alerts_come_most_urgent_first_and_the_opening_line_follows_the_top_one(rec):
    complaints = _rows(rec.complaints, [_complaint(1, 24, "low", True, "late_delivery"),
                                        _complaint(2, 13 * 24, "low", True, "rude_staff")])
    found = views.alerts(replace(rec, complaints=complaints), NOW)
    assert [a.level for a in found] == sorted((a.level for a in found), key=["error", "warning", "info"].index)
    assert found[0].cited == "complaint #2"
    assert views.opening_line(found) == ("I see your rude staff complaint from 13 days ago is still open; "
                                         "let me check where it stands for you.")


def test_today_and_yesterday_are_calendar_days_in_istanbul():
    late_evening = datetime(2026, 6, 29, 23, 30)  # the data's times are Istanbul wall-clock times
    assert views.days_ago(late_evening, datetime(2026, 6, 30, 0, 30)) == "yesterday"  # one hour, another day
    assert views.days_ago(datetime(2026, 6, 30, 0, 5), datetime(2026, 6, 30, 23, 55)) == "today"
    # 21:30 UTC on the 29th is 00:30 on the 30th in Istanbul: a UTC calendar would still say "today".
    assert views.days_ago(late_evening, datetime(2026, 6, 29, 21, 30, tzinfo=UTC)) == "yesterday"
    assert views.days_ago(datetime(2026, 6, 27, 23, 59), datetime(2026, 6, 30, 0, 1)) == "3 days ago"


@pytest.mark.parametrize(("days", "text"), [(0, "customer since today"), (1, "customer for 1 day"),
                                            (45, "customer for 45 days"), (59, "customer for 59 days"),
                                            (60, "customer for 1 month"), (400, "customer for 13 months"),
                                            (800, "customer for 2 years")])
def test_tenure_is_in_days_for_customers_of_under_two_months(days, text):
    assert views.tenure(NOW.date() - timedelta(days=days), NOW) == text


def test_the_identity_strip_reads_out_phone_email_birth_date_with_age_and_city(rec):
    profile = {**rec.profile, "phone": "+905321234567", "email": "ayse@example.com", "city": "İzmir"}
    who = views.identity(profile, NOW)
    assert who == views.Identity("0532 123 45 67", "ayse@example.com", "03.07.1980 (age 45)", "İzmir")
    assert views.identity({**profile, "birth_date": date(1980, 6, 30)}, NOW).born == "30.06.1980 (age 46)"
    unknown = views.identity({**profile, "phone": None, "email": None, "birth_date": None, "city": None}, NOW)
    assert unknown == views.Identity("—", "no e-mail", "birth date unknown", "city unknown")


def test_an_unknown_customer_has_no_record(db):
    assert customer.load_customer(db, 42) is None


def test_tabs_totals_response_times_channels_and_satisfaction(rec):
    totals = views.purchase_totals(rec)
    assert (totals["completed"], totals["returned"], totals["net_revenue_try"]) == (10, 1, 10_000.0)
    assert views.monthly_spend(rec)["net_revenue_try"].sum() == 10_000.0
    history = views.complaint_history(rec)
    resolved = history.filter(history["complaint_id"] == 2).row(0, named=True)
    assert (resolved["response_hours"], resolved["resolution_hours"]) == (4.0, 48.0)
    channels = {r["channel"]: r["contacts"] for r in views.contacts_by_channel(rec).iter_rows(named=True)}
    assert channels == {"phone": 60, "email": 60, "web_chat": 2}
    answers = views.satisfaction_history(rec)
    assert sorted(answers["measure"].to_list()) == ["CSAT (1-5)", "CSAT (1-5)", "NPS (0-10)"]


@pytest.mark.parametrize("typed", ["ayse yilmas", "aysee yilmaz", "yılmz ayşe"])
def test_one_typo_on_a_longer_word_is_tolerated(db, typed):
    assert customer.search_customers(db, typed).matches["customer_id"].to_list() == [CID]


def test_typos_on_short_words_are_not_guessed(db):
    assert customer.search_customers(db, "mehmat oz").matches.is_empty() is False  # mehmet: 6 letters
    assert customer.search_customers(db, "ozz").matches.is_empty()


def test_header_profile_has_value_rank_and_consent_dates(db):
    profile = customer.customer_profile(db, CID)
    assert profile["value_top_share"] == pytest.approx(0.0)  # the highest of two buyers
    assert profile["usual_days_between_orders"] == pytest.approx(10.0)
    assert profile["consent_email_at"] == date(2024, 1, 10)


def test_the_real_clock_reads_istanbul_time_on_a_server_running_in_utc(db, monkeypatch):
    import time

    from crm360 import clock

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        istanbul = datetime.now(views.LOCAL_ZONE).replace(tzinfo=None)
        assert abs((clock.now(db, "wall") - istanbul).total_seconds()) < 5
    finally:
        monkeypatch.undo()
        time.tzset()


def test_the_data_clock_is_the_newest_event_loaded_or_written_at_the_desk(db, tmp_path, monkeypatch):
    """A snapshot loaded last night is judged as of last night until an agent writes: then as of that
    write, so what the agent just opened is 0 hours old, never in the future of the snapshot."""
    from crm360 import clock
    from crm360.desk import DeskStore

    monkeypatch.setenv("CRM_DESK", str(tmp_path / "desk.sqlite"))
    loaded = clock.data_as_of(db)
    assert clock.now(db, "data") == loaded  # no desk store yet
    store = DeskStore(tmp_path / "desk.sqlite")
    assert clock.now(db, "data") == loaded  # a store without a write
    store.log_call(CID, "deniz", "billing", "escalated", "", now=loaded - timedelta(days=1))
    assert clock.now(db, "data") == loaded  # an older write does not move the clock back
    later = loaded + timedelta(hours=5)
    store.log_call(CID, "deniz", "billing", "escalated", "", now=later)
    assert clock.now(db, "data") == later
