"""Marts: business tables built from the core tables, one SQL file each in `sql/marts/`, and
the value models' scores (`customer_value`, fitted in Python: see crm360.models.value).

The order matters where one mart reads another: customer_summary reads customer_value and
customer_segments, which read the macros of value_inputs; kpi_daily, the trend marts and the name
tokens read customer_summary.
Porting the marts to another engine means porting these files and the one Python step.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as time_of_day

import duckdb
import polars as pl

from crm360 import config
from crm360.geography import PROVINCES
from crm360.models import backtest, value
from etl.transform import render_sql

MARTS = ("dataset_info", "value_inputs", "customer_value", "model_backtest", "customer_segments", "segment_history",
         "marketing_consent", "customer_summary", "outreach_candidates", "kpi_daily",
         "trend_facts", "provinces", "customer_name_tokens", "identity_review", "lookup_indexes")


def build_customer_value(con: duckdb.DuckDBPyConnection) -> None:
    """Fit BG/NBD and Gamma-Gamma on the purchase histories up to data_as_of, record the fits in
    model_fits, and store every buyer's scores in customer_value."""
    run_id, as_of = con.execute("SELECT run_id, data_as_of FROM dataset_info").fetchone()
    histories = value.load_histories(con, as_of.date())
    models = value.fit(histories, as_of.date())
    value.record_fits(con, models, run_id, "scoring")
    _store(con, "customer_value", value.score(histories, models).sort("customer_id"))


def build_model_backtest(con: duckdb.DuckDBPyConnection) -> None:
    """The model page's evidence: fit on all but the last weeks, forecast them, store forecast
    and actual repeat purchases per week and by purchases before the cut-off."""
    run_id, as_of = con.execute("SELECT run_id, data_as_of FROM dataset_info").fetchone()
    result = backtest.run(con, backtest.default_cutoff(as_of.date(), config.BACKTEST_HOLDOUT_WEEKS), as_of.date())
    value.record_fits(con, result.models, run_id, "backtest")
    _store(con, "model_backtest_weekly", result.weekly)
    _store(con, "model_backtest_by_frequency", result.by_frequency if result.by_frequency.width else pl.DataFrame(
        schema={"calibration_repeat_purchases": pl.Int64, "customers": pl.UInt32, "predicted_mean": pl.Float64,
                "actual_mean": pl.Float64}))


def build_segment_history(con: duckdb.DuckDBPyConnection) -> None:
    """Each buyer's RFM segment at the end of every month with purchases, and on data_as_of: the
    trends page's segment movement reads two of these days instead of scoring every customer
    twice (the rfm_segments macro, the same rules as customer_segments)."""
    con.execute("CREATE OR REPLACE TABLE segment_history (as_of_day DATE, customer_id BIGINT, rfm_segment VARCHAR)")
    first, as_of = con.execute("""SELECT min(ordered_at)::DATE, (SELECT data_as_of FROM dataset_info)
                                  FROM purchases WHERE status = 'completed'""").fetchone()
    if first is None:
        return
    for day in month_ends(first, as_of.date()):
        con.execute("""INSERT INTO segment_history
                       SELECT ?::DATE, customer_id, rfm_segment FROM rfm_segments(?::TIMESTAMP)
                       ORDER BY customer_id""",
                    [day, as_of if day == as_of.date() else datetime.combine(day, time_of_day.max)])


def month_ends(first: date, last: date) -> list[date]:
    """The last day of every month from `first`'s to the one before `last`'s, then `last`."""
    days, month = [], first.replace(day=1)
    while month <= last.replace(day=1):
        following = (month + timedelta(days=32)).replace(day=1)
        days.append(min(following - timedelta(days=1), last))
        month = following
    return days


def _store(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.register("computed_frame", frame)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM computed_frame")
    finally:
        con.unregister("computed_frame")


PYTHON_MARTS: dict[str, Callable[[duckdb.DuckDBPyConnection], None]] = {
    "customer_value": build_customer_value, "model_backtest": build_model_backtest,
    "segment_history": build_segment_history}


def build_marts(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Build every mart; returns seconds per mart."""
    con.execute("SET VARIABLE provinces = ?", [list(PROVINCES)])
    timings = {}
    for mart in MARTS:
        started = time.perf_counter()
        if mart in PYTHON_MARTS:
            PYTHON_MARTS[mart](con)
        else:
            con.execute(render_sql(f"marts/{mart}.sql"))
        timings[mart] = time.perf_counter() - started
    return timings
