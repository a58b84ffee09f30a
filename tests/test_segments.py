"""RFM cells and segments, loyalty tiers at their thresholds, and churn bands with their reasons,
on hand-built companies loaded through the real ETL."""
import random
from datetime import datetime, timedelta

import pytest

from crm360 import config, segments
from tests.conftest import load_dir
from tests.rawfiles import write_raw

START = datetime(2025, 1, 1, 10, 0)


def _customer(customer_id: int) -> dict:
    return {"customer_id": customer_id, "full_name": f"Müşteri {customer_id}",
            "phone": f"0532 000 {customer_id % 1000:03d} {customer_id % 100:02d}",
            "email": f"c{customer_id}@example.com"}


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """25 buyers, one per (R, F) cell: buyer i is R = i // 5 + 1 (later last purchase = higher)
    and F = i % 5 + 1 (i % 5 + 1 orders); plus a prospect and a customer whose only order was
    returned. Buyer 0 also has an open complaint past the promise, buyer 1 a detractor answer."""
    customers, purchases = [], []
    for i in range(25):
        customer_id = 1_000_100 + i
        customers.append(_customer(customer_id))
        last = START + timedelta(days=60 * (i // 5), hours=i % 5)
        for k in range(i % 5 + 1):
            purchases.append({"order_id": len(purchases) + 1, "customer_id": customer_id,
                              "ordered_at": f"{last - timedelta(days=7 * k):%Y-%m-%d %H:%M:%S}",
                              "net_amount_try": 100.0 + i})
    customers += [_customer(1_000_200), _customer(1_000_201)]
    purchases.append({"order_id": 999, "customer_id": 1_000_201, "ordered_at": "2025-03-01 10:00:00",
                      "status": "returned"})
    newest = START + timedelta(days=240, hours=5)
    complaints = [{"complaint_id": 1, "customer_id": 1_000_100, "status": "open",
                   "opened_at": f"{newest - timedelta(hours=30):%d.%m.%Y %H:%M}"}]
    surveys = [{"survey_id": 1, "customer_id": 1_000_101, "responded_at": f"{newest:%Y-%m-%d %H:%M:%S}",
                "nps_score": 3}]
    tmp = tmp_path_factory.mktemp("grid")
    raw = write_raw(tmp / "raw", customers=customers, purchases=purchases, complaints=complaints, surveys=surveys)
    database, _ = load_dir(raw, tmp)
    return {row[0]: row[1:] for row in database.frame(
        """SELECT customer_id, r_score, f_score, rfm_segment, churn_risk, churn_risk_band, churn_risk_reasons
           FROM customer_summary""").rows()}


def test_every_one_of_the_25_cells_gets_its_segment(grid):
    expected = {(r, f): name for r, f, name in segments.segment_cells()}
    for i in range(25):
        r_score, f_score, segment, *_ = grid[1_000_100 + i]
        assert (r_score, f_score) == (i // 5 + 1, i % 5 + 1)
        assert segment == expected[(r_score, f_score)]
    assert {grid[1_000_100 + i][2] for i in range(25)} == {s.name for s in segments.RFM_SEGMENTS}


@pytest.mark.parametrize(("cell", "segment"), [((5, 5), "Champions"), ((1, 5), "Cannot Lose Them"),
                                               ((5, 1), "New Customers"), ((4, 1), "Promising"),
                                               ((3, 3), "Need Attention"), ((1, 1), "Hibernating"),
                                               ((2, 4), "At Risk"), ((3, 2), "About to Sleep"),
                                               ((4, 5), "Loyal"), ((4, 2), "Potential Loyalist")])
def test_the_map_names_the_cells_as_the_literature_does(cell, segment):
    assert {(r, f): name for r, f, name in segments.segment_cells()}[cell] == segment


def test_customers_without_a_completed_order_are_prospects_not_errors(grid):
    for customer_id in (1_000_200, 1_000_201):
        assert grid[customer_id][:3] == (None, None, segments.PROSPECTS)
        assert grid[customer_id][3:] == (None, None, None)  # no purchase model for them


def _band(risk: float) -> str:
    return next(name for name, bound in config.CHURN_RISK_BANDS if risk >= bound)


def _raised(band: str) -> str:
    order = segments.CHURN_BAND_ORDER
    return order[min(order.index(band) + 1, len(order) - 1)]


def test_service_signals_raise_the_churn_band_and_are_listed_as_reasons(small_db):
    rows = small_db.frame("""SELECT churn_risk, churn_risk_band, churn_risk_reasons FROM customer_summary
                             WHERE p_alive IS NOT NULL""").rows()
    raised = 0
    for risk, band, reasons in rows:
        signalled = any("promise" in reason or "NPS" in reason for reason in reasons)
        assert band == (_raised(_band(risk)) if signalled else _band(risk))
        raised += signalled and band != _band(risk)
    assert raised > 10
    assert any(any(reason.endswith("(detractor)") for reason in r) for *_, r in rows)


@pytest.fixture(scope="module")
def churners(tmp_path_factory):
    """Twenty customers who keep buying, each at their own pace, and twenty who bought a few times
    and stopped, with varied spend: enough to fit both models. Customer 0 (a steady buyer) has a
    complaint 30 hours old and unanswered."""
    rng = random.Random(5)
    customers, purchases = [], []
    end = START + timedelta(days=300)
    for i in range(40):
        customer_id = 1_000_400 + i
        customers.append(_customer(customer_id))
        moment, pace, level = START + timedelta(days=rng.uniform(0, 30)), rng.uniform(5, 40), rng.uniform(4, 6.5)
        stop = end if i < 20 else moment + timedelta(days=rng.uniform(20, 90))
        while moment < stop:
            purchases.append({"order_id": len(purchases) + 1, "customer_id": customer_id,
                              "ordered_at": f"{moment:%Y-%m-%d %H:%M:%S}",
                              "net_amount_try": round(rng.lognormvariate(level, 0.7), 2)})
            moment += timedelta(days=rng.expovariate(1 / pace))
    newest = max(datetime.fromisoformat(p["ordered_at"]) for p in purchases)
    complaints = [{"complaint_id": 1, "customer_id": 1_000_400, "status": "open",
                   "opened_at": f"{newest - timedelta(hours=30):%d.%m.%Y %H:%M}"}]
    tmp = tmp_path_factory.mktemp("churners")
    database, _ = load_dir(write_raw(tmp / "raw", customers=customers, purchases=purchases,
                                     complaints=complaints), tmp)
    return database


def test_an_open_complaint_past_the_promise_raises_a_loyal_customers_churn_band(churners):
    assert churners.row("SELECT converged FROM model_fits WHERE model = 'bg_nbd' AND purpose = 'scoring'")[0]
    risk, band, reasons = churners.frame(
        """SELECT churn_risk, churn_risk_band, churn_risk_reasons FROM customer_summary
           WHERE customer_id = 1000400""").row(0)
    assert band == _raised(_band(risk)) != _band(risk)
    assert reasons == [f"an open complaint past the {config.RESPONSE_PROMISE_HOURS}-hour promise"]
    steady, gone = churners.frame(
        """SELECT avg(p_alive) FILTER (WHERE customer_id BETWEEN 1000401 AND 1000419),
                  avg(p_alive) FILTER (WHERE customer_id >= 1000420) FROM customer_summary""").row(0)
    assert steady > 0.9 and gone < 0.5


def test_a_fit_that_did_not_converge_leaves_the_model_columns_empty(tmp_path):
    # Nobody bought twice: drop-out cannot be estimated. The run records that and uses nothing.
    customers = [_customer(1_000_500 + i) for i in range(5)]
    purchases = [{"order_id": i + 1, "customer_id": 1_000_500 + i, "ordered_at": f"2026-0{i + 1}-01 10:00:00"}
                 for i in range(5)]
    database, _ = load_dir(write_raw(tmp_path / "raw", customers=customers, purchases=purchases), tmp_path)
    assert database.frame("SELECT model, converged FROM model_fits WHERE purpose = 'scoring'").rows() == [
        ("bg_nbd", False), ("gamma_gamma", False)]
    rows = database.frame("SELECT p_alive, predicted_clv_12m, churn_risk_band, rfm_segment FROM customer_summary")
    assert rows["p_alive"].null_count() == rows["predicted_clv_12m"].null_count() == rows.height == 5
    assert rows["rfm_segment"].null_count() == 0  # segments do not need the model


def test_the_seeded_company_fits_and_every_buyer_is_scored(small_db):
    fits = small_db.frame("SELECT model, converged, customers FROM model_fits").rows()
    assert {(model, converged) for model, converged, _ in fits} == {("bg_nbd", True), ("gamma_gamma", True)}
    unscored = small_db.row("SELECT count(*) FROM customer_summary WHERE orders > 0 AND p_alive IS NULL")[0]
    assert unscored == 0


@pytest.fixture(scope="module")
def tiers(tmp_path_factory):
    spends = {1_000_300: 50_000.0, 1_000_301: 49_999.99, 1_000_302: 20_000.0, 1_000_303: 5_000.0,
              1_000_304: 4_999.99, 1_000_305: 0.01}
    customers = [_customer(c) for c in [*spends, 1_000_306]]
    purchases = [{"order_id": i + 1, "customer_id": c, "ordered_at": "2026-05-01 10:00:00", "net_amount_try": v}
                 for i, (c, v) in enumerate(spends.items())]
    # Customer 306 spent a lot, but more than a year before the newest event (2026-06-01).
    purchases += [{"order_id": 100, "customer_id": 1_000_306, "ordered_at": "2025-05-01 10:00:00",
                   "net_amount_try": 90_000.0},
                  {"order_id": 101, "customer_id": 1_000_300, "ordered_at": "2026-06-01 10:00:00",
                   "net_amount_try": 0.0, "status": "cancelled"}]
    tmp = tmp_path_factory.mktemp("tiers")
    database, _ = load_dir(write_raw(tmp / "raw", customers=customers, purchases=purchases), tmp)
    return dict(database.frame("SELECT customer_id, loyalty_tier FROM customer_summary").rows())


def test_tiers_at_their_thresholds(tiers):
    assert [tiers[c] for c in range(1_000_300, 1_000_307)] == [
        "Platinum", "Gold", "Gold", "Silver", "Bronze", "Bronze", None]


def test_model_fits_of_every_run_are_kept(tmp_path):
    customers = [_customer(1_000_600 + i) for i in range(3)]
    purchases = [{"order_id": i + 1, "customer_id": 1_000_600 + i % 3, "ordered_at": f"2026-0{i + 1}-01 10:00:00"}
                 for i in range(6)]
    raw = write_raw(tmp_path / "raw", customers=customers, purchases=purchases)
    load_dir(raw, tmp_path)
    database, _ = load_dir(raw, tmp_path)
    runs = database.frame("SELECT run_id, count(*) AS fits FROM model_fits GROUP BY run_id").rows()
    assert len(runs) == 2 and all(fits == 4 for _, fits in runs)  # scoring and backtest, two models each
