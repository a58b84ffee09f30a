"""`python -m bench.trends DB [N]`: the trends page's queries for a one-year range, N times
(default 30) with random filters (none, or one to three of city, channel, segment and tier), on
a published database. Each query is timed on its own (the KPI tiles are five reads), and all of
one view's queries together: the tiles and every section's charts, as if each tab were opened.
Prints JSON."""
from __future__ import annotations

import json
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

from bench.timing import millisecond_stats
from crm360 import config
from crm360.queries import trends
from crm360.queries.value import SEGMENT_ORDER
from crm360.store import Database


def random_filter(draw: random.Random, start, end, options: dict[str, list[str]]) -> trends.TrendFilter:
    chosen: dict[str, tuple[str, ...]] = {}
    if draw.random() < 0.7:
        for field in draw.sample(sorted(options), draw.randint(1, 3)):
            chosen[field] = tuple(draw.sample(options[field], draw.randint(1, min(3, len(options[field])))))
    return trends.TrendFilter(start, end, **chosen)


def _queries(db: Database, chosen: trends.TrendFilter, grain: str) -> dict:
    """Every read of one view, by name (the tiles' five reads first, as `trends.kpis` runs them)."""
    def tiles(part):
        def run():
            with db.snapshot() as snap:
                return part(snap)
        return run
    orders: dict = {}

    def order_tiles(snap):
        orders.update(trends._order_kpis(snap, chosen))
    return {
        "tiles: orders": tiles(order_tiles),
        "tiles: customers": tiles(lambda snap: trends._customer_kpis(snap, chosen, orders["new_customers"])),
        "tiles: complaints": tiles(lambda snap: trends._complaint_kpis(snap, chosen)),
        "tiles: contacts": tiles(lambda snap: trends._contact_kpis(snap, chosen)),
        "tiles: surveys": tiles(lambda snap: trends._survey_kpis(snap, chosen)),
        "revenue and orders": lambda: trends.revenue_and_orders(db, chosen, grain),
        "complaints by cause": lambda: trends.complaints_over_time(db, chosen, grain, "category"),
        "complaints by channel": lambda: trends.complaints_over_time(db, chosen, grain, "channel"),
        "top causes": lambda: trends.top_causes(db, chosen),
        "time distributions": lambda: trends.time_distributions(db, chosen),
        "promise trend": lambda: trends.promise_trend(db, chosen, grain),
        "cohorts": lambda: trends.cohort_retention(db, chosen),
        "by segment": lambda: trends.by_customer_group(db, chosen, "rfm_segment"),
        "by tier": lambda: trends.by_customer_group(db, chosen, "loyalty_tier"),
        "channel mix": lambda: trends.channel_mix(db, chosen, grain),
        "team": lambda: trends.agent_table(db, chosen),
        "segment movement": lambda: trends.segment_movement(db, chosen),
    }


def run(db_path: Path, count: int, seed: int = 5) -> dict:
    db = Database(db_path)
    first, last = trends.data_range(db)
    start = max(first, last - timedelta(days=364))
    options = {**trends.filter_options(db), "segments": SEGMENT_ORDER,
               "tiers": [name for name, _ in config.LOYALTY_TIERS] + [config.NO_TIER]}
    draw = random.Random(seed)
    timings: dict[str, list[float]] = {}
    for _ in range(count):
        chosen = random_filter(draw, start, last, options)
        grain = draw.choice(trends.GRAINS)
        view_started = time.perf_counter()
        for name, query in _queries(db, chosen, grain).items():
            started = time.perf_counter()
            query()
            timings.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        timings.setdefault("whole view", []).append((time.perf_counter() - view_started) * 1000)
    rows = {name: db.row(f"SELECT count(*) FROM {name}")[0] for name in
            ("trend_orders", "trend_contacts", "trend_agents", "trend_complaints", "trend_surveys")}
    marts = db.row("""SELECT seconds FROM etl_run_stages WHERE stage = 'mart:trend_facts'
                      AND run_id = (SELECT run_id FROM dataset_info)""")
    return {"range": [str(start), str(last)], "views": count, "mart_rows": rows,
            "mart_seconds": marts and marts[0], "queries": {n: millisecond_stats(v) for n, v in timings.items()}}


if __name__ == "__main__":
    print(json.dumps(run(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 30)))
