"""Queries behind the model page and the segments page: the fits and their evidence, and the
segments' size, value and movement. Per-customer numbers come from customer_summary, so these
pages show the same numbers as the customer page."""
from __future__ import annotations

import json
from datetime import date, datetime, time

import polars as pl

from crm360 import segments
from crm360.queries import desk_consent
from crm360.store import Database


def latest_fits(db: Database) -> list[dict]:
    """The fits of the loaded version's run, the scoring fit and the backtest fit of each model,
    with their parameters as a dict."""
    frame = db.frame(
        """SELECT purpose, model, cutoff, params, log_likelihood, converged, iterations, message,
                  customers, histories, seconds
           FROM model_fits WHERE run_id = (SELECT run_id FROM dataset_info) ORDER BY purpose DESC, model""")
    return [{**row, "params": json.loads(row["params"])} for row in frame.iter_rows(named=True)]


def fit_history(db: Database) -> pl.DataFrame:
    """Every run's scoring fit of the purchase model: does it move from load to load?"""
    frame = db.frame(
        """SELECT fitted_at, cutoff, params, log_likelihood, converged, customers
           FROM model_fits WHERE purpose = 'scoring' AND model = 'bg_nbd' ORDER BY fitted_at""")
    params = [json.loads(text) for text in frame["params"]]
    return frame.drop("params").with_columns(
        *(pl.Series(name, [p.get(name) for p in params], dtype=pl.Float64) for name in ("r", "alpha", "a", "b")))


def backtest_weekly(db: Database) -> pl.DataFrame:
    return db.frame("SELECT week, predicted_cumulative, actual_cumulative FROM model_backtest_weekly ORDER BY week")


def backtest_by_frequency(db: Database) -> pl.DataFrame:
    return db.frame(
        """SELECT calibration_repeat_purchases, customers, predicted_mean, actual_mean
           FROM model_backtest_by_frequency ORDER BY calibration_repeat_purchases""")


SEGMENT_ORDER = [s.name for s in segments.RFM_SEGMENTS] + [segments.PROSPECTS]


def segment_summary(db: Database) -> pl.DataFrame:
    """Per segment: customers, revenue so far, predicted 12-month value, share still buying."""
    frame = db.frame(
        """SELECT rfm_segment AS segment, count(*) AS customers,
                  sum(net_revenue_try)::DOUBLE AS net_revenue_try,
                  sum(predicted_clv_12m) AS predicted_clv_12m,
                  avg(p_alive) AS average_p_alive,
                  count(*) FILTER (WHERE churn_risk_band = 'high') AS high_churn_risk
           FROM customer_summary GROUP BY rfm_segment""")
    order = pl.DataFrame({"segment": SEGMENT_ORDER, "position": range(len(SEGMENT_ORDER))})
    return frame.join(order, on="segment", how="left").sort("position").drop("position")


def tier_summary(db: Database) -> pl.DataFrame:
    return db.frame(
        """SELECT coalesce(loyalty_tier, 'no tier') AS tier, count(*) AS customers,
                  sum(trailing_12m_revenue_try)::DOUBLE AS trailing_12m_revenue_try
           FROM customer_summary GROUP BY ALL ORDER BY min(trailing_12m_revenue_try) DESC""")


def segment_flow(db: Database, start: date, end: date) -> pl.DataFrame:
    """How many customers moved from each segment on `start` to each segment on `end` (both as of
    the end of the day), counting customers who had signed up by `end`; no completed order by a
    date means 'Prospects' on that date. The RFM rules are the marts' (rfm_segments macro)."""
    return db.frame(
        """SELECT coalesce(a.rfm_segment, ?) AS from_segment, coalesce(b.rfm_segment, ?) AS to_segment,
                  count(*) AS customers
           FROM customers c
           LEFT JOIN rfm_segments(?::TIMESTAMP) a USING (customer_id)
           LEFT JOIN rfm_segments(?::TIMESTAMP) b USING (customer_id)
           WHERE c.signup_date <= ?
           GROUP BY ALL ORDER BY customers DESC""",
        [segments.PROSPECTS, segments.PROSPECTS, _end_of(start), _end_of(end), end])


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max)


def segment_customers(db: Database, segment: str, limit: int = 500) -> pl.DataFrame:
    """A segment's customers, most valuable first (predicted value, then value so far), with what
    a marketer needs before contacting them: consent as marketing lists apply it (customer_summary
    reads it from marketing_consent, İYS refusals included). Do-not-contact customers are counted
    in the segment's figures but never listed by name here (see `segment_do_not_contact`)."""
    with db.snapshot() as snap:
        desk_consent.apply(snap)  # consent and do-not-contact recorded at the desk count at once
        return snap.frame(
        """SELECT customer_id, full_name, city, loyalty_tier, net_revenue_try, predicted_clv_12m,
                  churn_risk_band, last_purchase_at, consent_email, consent_sms, consent_phone
           FROM customer_summary WHERE rfm_segment = ? AND NOT do_not_contact
           ORDER BY predicted_clv_12m DESC NULLS LAST, net_revenue_try DESC, customer_id LIMIT ?""",
        [segment, limit])


def segment_do_not_contact(db: Database, segment: str) -> int:
    """How many of a segment's customers asked not to be contacted: counted, not listed."""
    with db.snapshot() as snap:
        desk_consent.apply(snap)
        return snap.cursor.execute("SELECT count(*) FROM customer_summary WHERE rfm_segment = ? AND do_not_contact",
                                   [segment]).fetchall()[0][0]
