"""Calibration and holdout: fit the models on the purchases up to a cut-off, forecast the next
period, and compare with what customers actually did. The model page and
`python -m crm360 backtest` show this; the ETL stores one with the default holdout."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
import polars as pl

from crm360.models import bgnbd, value

FREQUENCY_GROUPS = 7  # customers with 7 or more repeat purchases before the cut-off form one group


@dataclass(frozen=True)
class Backtest:
    models: value.ValueModels
    holdout_end: date
    weekly: pl.DataFrame        # week, predicted_cumulative, actual_cumulative (repeat purchase days)
    by_frequency: pl.DataFrame  # calibration_repeat_purchases, customers, predicted_mean, actual_mean

    @property
    def holdout_weeks(self) -> int:
        return self.weekly.height

    def errors(self) -> dict[str, float]:
        """Total forecast error and per-customer-group error, in numbers a reader can judge."""
        if self.weekly.is_empty():
            return {}
        predicted, actual = self.weekly.row(-1)[1:]
        groups = self.by_frequency
        return {"predicted_total": predicted, "actual_total": actual,
                "total_error_share": (predicted - actual) / actual if actual else float("nan"),
                "group_mean_absolute_error": float((groups["predicted_mean"] - groups["actual_mean"]).abs().mean())}


def run(con: duckdb.DuckDBPyConnection, calibration_end: date, holdout_end: date) -> Backtest:
    """Fit on purchases up to `calibration_end`; forecast and count repeat purchase days in
    (calibration_end, holdout_end] for the customers who had bought by the cut-off."""
    if holdout_end <= calibration_end:
        raise ValueError(f"the holdout end ({holdout_end}) must come after the calibration end ({calibration_end})")
    histories = value.load_histories(con, calibration_end)
    models = value.fit(histories, calibration_end)
    weeks = (holdout_end - calibration_end).days // 7
    if not models.purchases.converged or weeks < 1 or histories.is_empty():
        empty = pl.DataFrame(schema={"week": pl.Int64, "predicted_cumulative": pl.Float64,
                                     "actual_cumulative": pl.Float64})
        return Backtest(models, holdout_end, empty, pl.DataFrame())
    actual = _actual_by_week(con, calibration_end, holdout_end)
    with_actual = histories.join(actual.group_by("customer_id").agg(pl.len().alias("holdout_days")),
                                 on="customer_id", how="left").with_columns(pl.col("holdout_days").fill_null(0))
    predicted = _predicted_cumulative(models.purchases.params, histories, weeks)
    actual_cumulative = (actual.join(histories.select("customer_id"), on="customer_id")
                         .group_by("week").len().sort("week"))
    weekly = pl.DataFrame({"week": np.arange(1, weeks + 1), "predicted_cumulative": predicted.sum(axis=0)}).join(
        actual_cumulative, on="week", how="left").with_columns(
        pl.col("len").fill_null(0).cum_sum().cast(pl.Float64).alias("actual_cumulative")).drop("len")
    by_frequency = (with_actual.with_columns(
        pl.col("repeat_days").clip(upper_bound=FREQUENCY_GROUPS).alias("calibration_repeat_purchases"),
        pl.Series("predicted", predicted[:, -1]))
        .group_by("calibration_repeat_purchases")
        .agg(pl.len().alias("customers"), pl.col("predicted").mean().alias("predicted_mean"),
             pl.col("holdout_days").mean().cast(pl.Float64).alias("actual_mean"))
        .sort("calibration_repeat_purchases"))
    return Backtest(models, holdout_end, weekly, by_frequency)


def _actual_by_week(con: duckdb.DuckDBPyConnection, calibration_end: date, holdout_end: date) -> pl.DataFrame:
    """Each purchase day in the holdout, with its week number (1 = the first 7 days)."""
    rows = con.execute(
        """SELECT customer_id, (date_diff('day', ?::DATE, ordered_at::DATE) - 1) // 7 + 1 AS week
           FROM (SELECT DISTINCT customer_id, ordered_at::DATE AS ordered_at FROM purchases
                 WHERE status = 'completed' AND ordered_at::DATE > ?::DATE AND ordered_at::DATE <= ?::DATE)""",
        [calibration_end, calibration_end, holdout_end]).fetchnumpy()
    weeks = (holdout_end - calibration_end).days // 7
    frame = pl.DataFrame({"customer_id": np.asarray(rows["customer_id"]), "week": np.asarray(rows["week"])})
    return frame.filter(pl.col("week") <= weeks)


def _predicted_cumulative(params: dict[str, float], histories: pl.DataFrame, weeks: int) -> np.ndarray:
    """Expected repeat purchases by the end of each holdout week, per customer (customers x weeks)."""
    alive = bgnbd.p_alive(params, value.customer_histories(histories))
    return value.expected_cumulative(params, histories, alive, np.arange(1, weeks + 1))


def default_cutoff(data_as_of: date, holdout_weeks: int) -> date:
    return data_as_of - timedelta(weeks=holdout_weeks)
