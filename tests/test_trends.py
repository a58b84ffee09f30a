"""The trends page's figures on a company small enough to count by hand.

Period: June 2026 (30 days); the previous period: 2-31 May 2026. The customer base on a day is
everyone with a completed order in the 365 days up to it.

Orders (completed unless said):       C1 10.06.2025 70, 01.12.2025, 05.06.2026 200, 20.06.2026 300
  C2 10.06.2026 400 (new)              C3 15.06.2025 50 (in the base until 14.06.2026: lost in June)
  C4 10.05 and 20.05.2026 150 each     C5 15.06.2026 cancelled: never a buyer
  C6 01.04.2025 80, 25.06.2026 120 (back after a lapse)
  C7 20.05.2025 60 (in the base on 1 May, out by 31 May: lost in May)
Base: 1 May {C1, C3, C7} = 3; 31 May {C1, C3, C4} = 3; 30 June {C1, C2, C4, C6} = 4.
"""
from datetime import date, timedelta

import pytest

from crm360 import trend_view
from crm360.queries import trends
from tests.conftest import load_dir
from tests.rawfiles import write_raw

JUNE = trends.TrendFilter(date(2026, 6, 1), date(2026, 6, 30))
ANKARA = {1_000_001, 1_000_002}


def _order(order_id: int, customer: int, day: str, amount: float, status: str = "completed") -> dict:
    return {"order_id": order_id, "customer_id": 1_000_000 + customer, "ordered_at": f"{day} 10:00:00",
            "net_amount_try": amount, "status": status}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("trends")
    customers = [{"customer_id": 1_000_000 + c, "full_name": f"Müşteri {c}", "email": f"c{c}@example.com",
                  "phone": f"0532 000 00 {c:02d}", "city": "Ankara" if 1_000_000 + c in ANKARA else "İstanbul"}
                 for c in range(1, 8)]
    purchases = [_order(1, 1, "2025-06-10", 70), _order(2, 1, "2025-12-01", 100), _order(3, 1, "2026-06-05", 200),
                 _order(4, 1, "2026-06-20", 300), _order(5, 2, "2026-06-10", 400), _order(6, 3, "2025-06-15", 50),
                 _order(7, 4, "2026-05-10", 150), _order(8, 4, "2026-05-20", 150),
                 _order(9, 5, "2026-06-15", 999, "cancelled"), _order(10, 6, "2025-04-01", 80),
                 _order(11, 6, "2026-06-25", 120), _order(12, 7, "2025-05-20", 60)]
    complaints = [
        {"complaint_id": 1, "customer_id": 1_000_001, "opened_at": "02.06.2026 10:00",
         "first_response_at": "02.06.2026 12:00", "resolved_at": "03.06.2026 10:00", "status": "resolved"},
        {"complaint_id": 2, "customer_id": 1_000_002, "opened_at": "10.06.2026 08:00", "channel": "email",
         "first_response_at": "11.06.2026 20:00", "resolved_at": "12.06.2026 08:00", "status": "resolved",
         "category": "out_of_stock"},
        {"complaint_id": 3, "customer_id": 1_000_006, "opened_at": "29.06.2026 20:00", "status": "open"},
        {"complaint_id": 4, "customer_id": 1_000_004, "opened_at": "15.05.2026 09:00",
         "first_response_at": "15.05.2026 10:00", "resolved_at": "01.06.2026 09:00", "status": "resolved"},
    ]
    interactions = [
        {"interaction_id": 1, "customer_id": 1_000_001, "started_at": "2026-06-03 10:00:00", "csat": "5",
         "resolved_on_first_contact": "true"},
        {"interaction_id": 2, "customer_id": 1_000_002, "started_at": "2026-06-11 10:00:00", "csat": "2",
         "resolved_on_first_contact": "false", "channel": "email", "agent_id": "A0002"},
        {"interaction_id": 3, "customer_id": 1_000_006, "started_at": "2026-06-26 10:00:00", "csat": "4",
         "direction": "outbound", "resolved_on_first_contact": ""},
        {"interaction_id": 4, "customer_id": 1_000_004, "started_at": "2026-05-16 10:00:00", "csat": "3",
         "resolved_on_first_contact": "true"},
    ]
    surveys = [{"survey_id": 1, "customer_id": 1_000_001, "responded_at": "2026-06-05 10:00:00", "nps_score": 10},
               {"survey_id": 2, "customer_id": 1_000_002, "responded_at": "2026-06-12 10:00:00", "nps_score": 3},
               {"survey_id": 3, "customer_id": 1_000_006, "responded_at": "2026-06-30 12:00:00", "nps_score": 8},
               {"survey_id": 4, "customer_id": 1_000_004, "responded_at": "2026-05-20 10:00:00", "nps_score": 9}]
    agents = [{"agent_id": "A0001", "full_name": "Deniz Kaya", "team": "Çağrı Merkezi"},
              {"agent_id": "A0002", "full_name": "Ece Demir", "team": "E-posta"}]
    raw = write_raw(tmp / "raw", customers=customers, purchases=purchases, complaints=complaints,
                    interactions=interactions, surveys=surveys, agents=agents)
    database, _ = load_dir(raw, tmp)
    return database


EXPECTED = {  # kpi: (June, May)
    "net_revenue_try": (1020.0, 300.0), "orders": (4, 2), "average_order_value_try": (255.0, 150.0),
    "active_customers": (3, 1), "new_customers": (1, 1), "lost_customers": (1, 1),
    "retention_rate": ((4 - 1) / 3, (3 - 1) / 3), "repeat_purchase_rate": (1 / 3, 1.0),
    "complaints_opened": (3, 1), "complaints_resolved": (3, 0), "median_first_response_hours": (19.0, 1.0),
    "within_promise_share": (0.5, 1.0), "first_contact_resolution": (0.5, 1.0), "csat": (2 / 3, 0.0),
    "nps": (0.0, 100.0),
}


@pytest.mark.parametrize("kpi", sorted(EXPECTED))
def test_each_kpi_for_the_period_and_the_previous_one(db, kpi):
    figures = trends.kpis(db, JUNE)
    assert (figures[kpi]["now"], figures[kpi]["before"]) == pytest.approx(EXPECTED[kpi]), kpi


def test_every_tile_has_a_figure_and_a_definition(db):
    from crm360.glossary import GLOSSARY

    figures = trends.kpis(db, JUNE)
    assert {tile.kpi for tile in trend_view.TILES} == set(EXPECTED) == set(figures)
    assert all(tile.definition in GLOSSARY for tile in trend_view.TILES)


def test_filters_narrow_every_figure_they_describe(db):
    ankara = trends.kpis(db, trends.TrendFilter(JUNE.start, JUNE.end, cities=("Ankara",)))
    assert ankara["net_revenue_try"]["now"] == 900.0 and ankara["active_customers"]["now"] == 2
    assert ankara["complaints_opened"]["now"] == 2 and ankara["nps"]["now"] == 0.0  # one promoter, one detractor
    by_phone = trends.kpis(db, trends.TrendFilter(JUNE.start, JUNE.end, channels=("phone",)))
    assert by_phone["net_revenue_try"]["now"] == 1020.0  # orders have no contact channel
    assert by_phone["complaints_opened"]["now"] == 2 and by_phone["first_contact_resolution"]["now"] == 1.0
    assert by_phone["csat"]["now"] == 1.0


def test_a_period_longer_than_the_active_window_counts_the_same_way(db):
    long = trends.TrendFilter(date(2025, 6, 1), date(2026, 6, 30))  # 395 days: the grouped route
    figures = trends.kpis(db, long)
    # Bought in the span: C1, C2, C3, C4, C6 (C7's only order is before it, C5 never bought).
    assert figures["active_customers"]["now"] == 5
    assert figures["new_customers"]["now"] == 4  # first orders in it: C1, C2, C3, C4
    # Base on 31 May 2025: C6 (April 2025) and C7 (May 2025); on 30 June 2026: C1, C2, C4, C6.
    assert figures["lost_customers"]["now"] == 1  # C7
    assert figures["retention_rate"]["now"] == pytest.approx((4 - 4) / 2)


@pytest.mark.parametrize(("kind", "now", "before", "shown"), [
    ("count", 120, 100, "+20.0%"), ("money", 90.0, 100.0, "-10.0%"), ("share", 0.55, 0.5, "+5.0 pts"),
    ("score", 12.0, 20.0, "-8.0 points"), ("hours", 6.0, 4.0, "+50.0%"), ("count", 5, 0, None),
    ("count", None, 3, None),
])
def test_period_over_period_changes(kind, now, before, shown):
    assert trend_view.change(now, before, kind) == shown


def test_revenue_overlays_the_same_days_a_year_earlier(db):
    series = trends.revenue_and_orders(db, JUNE, "month").rows(named=True)
    assert series == [
        {"year": "this", "period": date(2026, 6, 1), "net_revenue_try": 1020.0, "orders": 4},
        {"year": "previous", "period": date(2026, 6, 1), "net_revenue_try": 120.0, "orders": 2}]


def test_top_causes_compare_with_the_previous_period(db):
    causes = {r["category"]: r for r in trends.top_causes(db, JUNE).iter_rows(named=True)}
    assert (causes["late_delivery"]["complaints"], causes["late_delivery"]["complaints_before"]) == (2, 1)
    assert (causes["out_of_stock"]["complaints"], causes["out_of_stock"]["change"]) == (1, 1)


def test_cohorts_agents_and_time_distributions(db):
    cohorts = trends.cohort_retention(db, trends.TrendFilter(date(2025, 6, 1), date(2026, 6, 30)))
    june_2025 = cohorts.filter(cohorts["cohort"] == date(2025, 6, 1)).rows(named=True)
    # C1 and C3 started in June 2025; C1 bought again 6 and 12 months later.
    assert [(r["months_since"], r["customers"], r["share_buying"]) for r in june_2025] == [
        (0, 2, 1.0), (6, 1, 0.5), (12, 1, 0.5)]
    agents = {r["agent_id"]: r for r in trends.agent_table(db, JUNE).iter_rows(named=True)}
    assert agents["A0001"]["contacts"] == 2 and agents["A0001"]["csat"] == 1.0
    assert (agents["A0002"]["team"], agents["A0002"]["first_contact_resolution"]) == ("E-posta", 0.0)
    times = {(r["measure"], r["bin"]): r["complaints"]
             for r in trends.time_distributions(db, JUNE).iter_rows(named=True)}
    assert times == {("first response", 2): 1, ("first response", 24): 1, ("resolution", 24): 1,
                     ("resolution", 48): 1}


def test_an_empty_period_gives_empty_figures_not_errors(db):
    quiet = trends.TrendFilter(date(2024, 1, 1), date(2024, 1, 31))
    figures = trends.kpis(db, quiet)
    assert figures["orders"]["now"] in (None, 0) and figures["nps"]["now"] is None
    assert figures["retention_rate"]["now"] is None
    assert trends.revenue_and_orders(db, quiet, "week").is_empty()


BOUNDS = (date(2023, 12, 1), date(2026, 6, 30))
OPTIONS = {"cities": ["Ankara", "İstanbul"], "channels": ["email", "phone"], "segments": ["Champions"],
           "tiers": ["Gold"]}


def test_a_view_survives_the_round_trip_through_the_url():
    view = trend_view.TrendView("custom", "week", trends.TrendFilter(
        date(2026, 1, 1), date(2026, 3, 31), cities=("İstanbul",), channels=("phone", "email"), tiers=("Gold",)))
    params = trend_view.to_params(view)
    assert params == {"grain": "week", "start": "2026-01-01", "end": "2026-03-31", "city": ["İstanbul"],
                      "channel": ["phone", "email"], "tier": ["Gold"]}
    as_lists = {key: value if isinstance(value, list) else [value] for key, value in params.items()}
    assert trend_view.from_params(as_lists, BOUNDS, OPTIONS) == view


@pytest.mark.parametrize(("params", "expected"), [
    ({}, ("last_12_months", date(2025, 7, 1), date(2026, 6, 30), "month", ())),
    ({"period": ["last_30_days"], "city": ["Ankara", "Atlantis"]},
     ("last_30_days", date(2026, 6, 1), date(2026, 6, 30), "month", ("Ankara",))),
    ({"start": ["2026-13-45"], "grain": ["fortnight"]},
     ("last_12_months", date(2025, 7, 1), date(2026, 6, 30), "month", ())),
    ({"start": ["2026-05-01"], "end": ["2026-04-01"]},
     ("last_12_months", date(2025, 7, 1), date(2026, 6, 30), "month", ())),
    ({"start": ["2000-01-01"], "end": ["2030-01-01"], "grain": ["day"]},
     ("custom", BOUNDS[0], BOUNDS[1], "day", ())),
    ({"period": ["<script>"], "city": ["'; DROP TABLE trend_orders; --"]},
     ("last_12_months", date(2025, 7, 1), date(2026, 6, 30), "month", ())),
])
def test_a_bad_or_partial_link_falls_back_to_a_sensible_view(params, expected):
    view = trend_view.from_params(params, BOUNDS, OPTIONS)
    assert (view.preset, view.filters.start, view.filters.end, view.grain, view.filters.cities) == expected


def test_presets_end_on_the_newest_day_and_stay_inside_the_data():
    first, last = date(2026, 3, 10), date(2026, 6, 30)
    assert trend_view.preset_period("previous_year", first, last) == (first, first)
    assert trend_view.preset_period("year_to_date", first, last) == (first, last)
    assert trend_view.preset_period("last_7_days", first, last) == (last - timedelta(days=6), last)


def test_the_printable_summary_holds_the_view_and_escapes_what_it_prints(db):
    from crm360.trend_summary import summary_html

    chosen = trends.TrendFilter(JUNE.start, JUNE.end, cities=("<b>Ankara</b>",))
    view = trend_view.TrendView("custom", "month", chosen)
    page = summary_html(db, view, trends.kpis(db, JUNE)).decode("utf-8")
    assert "01.06.2026 to 30.06.2026" in page and "₺1,020" in page and "+240.0%" in page  # revenue vs May
    assert "&lt;b&gt;Ankara&lt;/b&gt;" in page and "<b>Ankara" not in page
    assert page.count("<tr>") >= len(trend_view.TILES) + 1


def test_segment_movement_reads_the_history_the_same_as_scoring_both_days(small_db):
    from crm360.queries import value

    last = small_db.row("SELECT data_as_of FROM dataset_info")[0].date()
    start, end, flow = trends.segment_movement(small_db, trends.TrendFilter(last - timedelta(days=200), last))
    assert end == last and start < end and (start + timedelta(days=1)).day == 1  # from a month end
    scored = value.segment_flow(small_db, start, end)
    key = ["from_segment", "to_segment"]
    assert flow.sort(key).equals(scored.sort(key))
    assert trends.segment_movement(small_db, trends.TrendFilter(date(2000, 1, 1), last)) is None
