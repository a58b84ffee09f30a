"""Queries behind the trends page, read from the daily marts so that a year costs a few hundred
rows, never a scan of the fact tables. Ratios are formed after summing."""
from __future__ import annotations

from datetime import date

import polars as pl

from crm360.store import Database


def monthly_kpis(db: Database, start: date, end: date) -> pl.DataFrame:
    """Per month: revenue, orders, complaints, 24-hour compliance, first-contact resolution,
    CSAT and NPS."""
    return db.frame(
            """SELECT date_trunc('month', day)::DATE AS month,
                      sum(net_revenue_try)::DOUBLE AS net_revenue_try,
                      sum(orders) AS orders,
                      sum(new_customers) AS new_customers,
                      sum(complaints_opened) AS complaints_opened,
                      sum(complaints_resolved) AS complaints_resolved,
                      sum(answered_within_promise) / nullif(sum(complaints_due), 0) AS within_promise_share,
                      sum(resolved_first_contact) / nullif(sum(inbound_with_outcome), 0) AS first_contact_resolution,
                      sum(csat_satisfied) / nullif(sum(csat_responses), 0) AS csat_share,
                      100.0 * (sum(nps_promoters) - sum(nps_detractors)) / nullif(sum(nps_responses), 0) AS nps
               FROM kpi_daily WHERE day BETWEEN ? AND ?
               GROUP BY ALL ORDER BY month""", [start, end])


def period_totals(db: Database, start: date, end: date) -> dict:
    """The headline tiles for one period."""
    frame = db.frame(
            """SELECT sum(net_revenue_try)::DOUBLE AS net_revenue_try, sum(orders) AS orders,
                      sum(net_revenue_try)::DOUBLE / nullif(sum(orders), 0) AS average_order_value_try,
                      sum(complaints_opened) AS complaints_opened,
                      sum(answered_within_promise) / nullif(sum(complaints_due), 0) AS within_promise_share,
                      sum(resolved_first_contact) / nullif(sum(inbound_with_outcome), 0) AS first_contact_resolution,
                      100.0 * (sum(nps_promoters) - sum(nps_detractors)) / nullif(sum(nps_responses), 0) AS nps
               FROM kpi_daily WHERE day BETWEEN ? AND ?""", [start, end])
    return frame.row(0, named=True)


def monthly_complaints_by_category(db: Database, start: date, end: date) -> pl.DataFrame:
    return db.frame(
            """SELECT date_trunc('month', day)::DATE AS month, category,
                      sum(complaints_opened) AS complaints
               FROM complaints_daily WHERE day BETWEEN ? AND ?
               GROUP BY ALL ORDER BY month, category""", [start, end])


def data_range(db: Database) -> tuple[date, date] | None:
    row = db.row("SELECT min(day), max(day) FROM kpi_daily")
    return None if row is None or row[0] is None else (row[0], row[1])
