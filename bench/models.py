"""`python -m bench.models DB`: time the value models on a published database, as the ETL's marts
step runs them: reading the purchase histories, fitting BG/NBD and Gamma-Gamma, scoring every
buyer, and the RFM / tier / segment mart; then, if the `lifetimes` package is installed
(bench/requirements-optional.txt), its fit of the same models on the same distinct histories
as the baseline. Prints JSON."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb
import polars as pl

from crm360.models import value
from etl.transform import render_sql


def run(db_path: Path) -> dict:
    con = duckdb.connect(str(db_path), read_only=True)
    cutoff = con.execute("SELECT data_as_of FROM dataset_info").fetchone()[0].date()
    timings: dict[str, float] = {}

    started = time.perf_counter()
    histories = value.load_histories(con, cutoff)
    timings["histories_sql"] = time.perf_counter() - started
    started = time.perf_counter()
    models = value.fit(histories, cutoff)
    timings["fit_both"] = time.perf_counter() - started
    started = time.perf_counter()
    scores = value.score(histories, models)
    timings["score"] = time.perf_counter() - started
    timings["fit_and_score"] = timings["fit_both"] + timings["score"]
    segments_sql = render_sql("marts/customer_segments.sql").replace(
        "CREATE OR REPLACE TABLE customer_segments AS", "CREATE OR REPLACE TEMP TABLE bench_customer_segments AS")
    started = time.perf_counter()
    con.execute(segments_sql)
    timings["rfm_tier_segment"] = time.perf_counter() - started
    result = {
        "customers_scored": scores.height, "distinct_histories": models.histories,
        "bg_nbd": {"params": models.purchases.params, "converged": models.purchases.converged,
                   "seconds": models.purchases.seconds},
        "gamma_gamma": {"params": models.spend.params, "converged": models.spend.converged,
                        "seconds": models.spend.seconds},
        "seconds": timings, "baseline": _lifetimes_baseline(histories)}
    if "seconds" in result["baseline"]:
        result["baseline"]["ratio_to_ours"] = result["baseline"]["seconds"] / timings["fit_both"]
    return result


def _lifetimes_baseline(histories: pl.DataFrame) -> dict:
    """The same two fits with `lifetimes`, on the same weighted distinct histories."""
    try:
        from lifetimes import BetaGeoFitter, GammaGammaFitter
    except ImportError:
        return {"skipped": "lifetimes is not installed (pip install -r bench/requirements-optional.txt)"}
    triples, spends = value.distinct_histories(histories)
    started = time.perf_counter()
    purchases = BetaGeoFitter().fit(triples["repeat_days"].to_numpy(), triples["recency_days"].to_numpy() / 7,
                                    triples["age_days"].to_numpy() / 7, weights=triples["len"].to_numpy())
    spend = GammaGammaFitter().fit(spends["repeat_days"].to_numpy(), spends["repeat_value"].to_numpy(),
                                   weights=spends["len"].to_numpy())
    return {"seconds": time.perf_counter() - started,
            "bg_nbd_params": {k: float(v) for k, v in purchases.params_.items()},
            "gamma_gamma_params": {k: float(v) for k, v in spend.params_.items()}}


if __name__ == "__main__":
    print(json.dumps(run(Path(sys.argv[1])), default=str))
