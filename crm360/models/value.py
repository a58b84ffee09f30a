"""Fitting the value models on a database's purchase histories and scoring every customer.

Used by the ETL's marts step (cutoff = data_as_of, results in `customer_value` and
`model_fits`) and by the backtest (cutoff = a calibration end). The histories come from the
`purchase_histories(cutoff)` macro the marts step stores in the database, so the ETL and the
backtest prepare data one way.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import numpy as np
import polars as pl

from crm360 import config
from crm360.models import bgnbd, gamma_gamma
from crm360.models.mle import Distinct, Fit

DAYS_PER_WEEK = 7.0


@dataclass(frozen=True)
class ValueModels:
    purchases: Fit   # BG/NBD
    spend: Fit       # Gamma-Gamma
    histories: int   # distinct (x, t_x, T) histories the purchase model was fitted on
    cutoff: date


def load_histories(con: duckdb.DuckDBPyConnection, cutoff: date) -> pl.DataFrame:
    """Every buyer's history up to `cutoff`, one row per customer (read once, fitted and scored)."""
    columns = con.execute(
        """SELECT customer_id, repeat_days, recency_days, age_days, repeat_value_avg_try::DOUBLE AS repeat_value
           FROM purchase_histories(?::DATE) ORDER BY customer_id""", [cutoff]).fetchnumpy()
    return pl.DataFrame({name: np.asarray(values) for name, values in columns.items()})


def _weeks(days: pl.Series | np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.float64) / DAYS_PER_WEEK


def distinct_histories(histories: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The distinct (x, t_x, T) purchase histories and (x, m) spends, each with its customer
    count `len`: what the models are fitted on (here, and by the bench's baseline)."""
    # Sorted: group_by's row order varies from run to run, and with it the order of the
    # likelihood's floating-point sums, the optimiser's path and the last digits of the fit.
    triples = histories.group_by("repeat_days", "recency_days", "age_days").len().sort(
        "repeat_days", "recency_days", "age_days")
    spends = (histories.filter(pl.col("repeat_days") > 0).group_by("repeat_days", "repeat_value").len()
              .sort("repeat_days", "repeat_value"))
    return triples, spends


def customer_histories(histories: pl.DataFrame) -> bgnbd.Histories:
    """One BG/NBD history per customer, times in weeks, for scoring."""
    return bgnbd.Histories.of(histories["repeat_days"], _weeks(histories["recency_days"]),
                              _weeks(histories["age_days"]))


def fit(histories: pl.DataFrame, cutoff: date) -> ValueModels:
    """Fit both models on the distinct histories, weighted by how many customers share each."""
    triples, spends = distinct_histories(histories)
    purchase_histories = bgnbd.Histories.of(triples["repeat_days"], _weeks(triples["recency_days"]),
                                            _weeks(triples["age_days"]), triples["len"])
    purchases = bgnbd.fit(purchase_histories)
    spend = gamma_gamma.fit(gamma_gamma.Spends.of(spends["repeat_days"], spends["repeat_value"], spends["len"]))
    return ValueModels(purchases, spend, triples.height, cutoff)


def score(histories: pl.DataFrame, models: ValueModels) -> pl.DataFrame:
    """Per customer with a purchase by the cutoff: P(alive) and expected purchase days in the
    next 12 months (BG/NBD), expected spend per purchase (Gamma-Gamma), and the discounted
    12-month value (both). A model that did not converge is reported, never used: what depends
    on it is left null."""
    scores = histories.select("customer_id", "repeat_days")
    nothing = np.full(histories.height, np.nan)
    alive = purchases_per_month = spend = None
    if models.purchases.converged:
        alive = bgnbd.p_alive(models.purchases.params, customer_histories(histories))
        purchases_per_month = _expected_by_month(models.purchases.params, histories, alive)
    if models.spend.converged:
        spend = gamma_gamma.expected_spend(models.spend.params, histories["repeat_days"].to_numpy(),
                                           histories["repeat_value"].to_numpy())
    discount = (1 + config.CLV_MONTHLY_DISCOUNT_RATE) ** -np.arange(1, config.CLV_HORIZON_MONTHS + 1)
    value = (spend * (purchases_per_month @ discount)
             if spend is not None and purchases_per_month is not None else nothing)
    return scores.with_columns(
        pl.Series("p_alive", nothing if alive is None else alive, nan_to_null=True),
        pl.Series("expected_purchases_12m", nothing if purchases_per_month is None else purchases_per_month.sum(axis=1),
                  nan_to_null=True),
        pl.Series("expected_spend_try", nothing if spend is None else spend, nan_to_null=True),
        pl.Series("predicted_clv_12m", value, nan_to_null=True),
    )


def _expected_by_month(params: dict[str, float], histories: pl.DataFrame, alive: np.ndarray) -> np.ndarray:
    """Expected purchases in each month of the horizon (customers x months)."""
    ends = np.arange(1, config.CLV_HORIZON_MONTHS + 1) * config.WEEKS_PER_MONTH
    cumulative = expected_cumulative(params, histories, alive, ends)
    return np.diff(cumulative, axis=1, prepend=0.0)


def expected_cumulative(params: dict[str, float], histories: pl.DataFrame, alive: np.ndarray,
                        horizons_weeks: np.ndarray) -> np.ndarray:
    """Expected purchases by each horizon after the cut-off (customers x horizons).

    E[X(t)] = (a part that depends on x, T and t only) x P(alive | x, t_x, T); the special
    function is in the first part, so it is computed once per distinct (x, T) in days."""
    x, age = histories["repeat_days"].to_numpy(), histories["age_days"].to_numpy()
    pairs = Distinct.of(x.astype(np.int64) * 100_000 + age)
    distinct = bgnbd.Histories.of(pairs.values // 100_000, np.zeros(pairs.values.size),
                                  _weeks(pairs.values % 100_000))
    per_active = np.stack([bgnbd.expected_if_alive(params, distinct, float(t)) for t in horizons_weeks], axis=1)
    return per_active[pairs.index] * alive[:, None]


def _json(params: dict[str, float]) -> str:
    return json.dumps({name: value if np.isfinite(value) else None for name, value in params.items()})


def record_fits(con: duckdb.DuckDBPyConnection, models: ValueModels, run_id: str, purpose: str) -> None:
    """Append both fits to `model_fits` (created if missing); `purpose` is 'scoring' (the fit
    behind the customers' scores) or 'backtest' (the calibration/holdout check)."""
    con.execute("""
        CREATE TABLE IF NOT EXISTS model_fits (
            run_id VARCHAR, fitted_at TIMESTAMP, purpose VARCHAR, cutoff DATE, model VARCHAR, params VARCHAR,
            log_likelihood DOUBLE, converged BOOLEAN, iterations INTEGER, message VARCHAR,
            customers BIGINT, histories BIGINT, seconds DOUBLE)""")
    fitted_at = datetime.now().replace(microsecond=0)
    con.executemany(
        "INSERT INTO model_fits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(run_id, fitted_at, purpose, models.cutoff, name, _json(f.params), f.log_likelihood, f.converged,
          f.iterations, f.message, f.customers, histories, f.seconds)
         for name, f, histories in (("bg_nbd", models.purchases, models.histories),
                                    ("gamma_gamma", models.spend, None))])
