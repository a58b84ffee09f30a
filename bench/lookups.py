"""`python -m bench.lookups DB N`: N random customer lookups through the customer page's own query
functions, in the order the page runs them, after the warm-up the app runs when it opens a database;
prints per-query and whole-lookup latencies as JSON. The lookups read the agent desk store too,
with a wrap-up saved for every other customer looked up."""
from __future__ import annotations

import json
import os
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from bench.timing import millisecond_stats
from crm360 import clock
from crm360 import record as views
from crm360.desk import DeskStore, FollowUp
from crm360.queries import customer
from crm360.store import Database


def _typed_phone(e164: str) -> str:
    national = e164[3:]
    return f"0{national[:3]} {national[3:6]} {national[6:8]} {national[8:]}"


def _desk_writes(db_path: Path, customer_ids: list[int], now: datetime) -> None:
    """A desk store beside the lookups (CRM_DESK) in which every other customer looked up has a
    wrap-up (a call with a follow-up, a complaint, an SMS withdrawal), as on a working day: the
    page's read then includes the desk's, with writes to overlay for half of them."""
    path = db_path.parent / "bench-desk.sqlite"
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    os.environ["CRM_DESK"] = str(path)
    store = DeskStore(path)
    for customer_id in customer_ids:
        store.log_call(customer_id, "bench", "billing", "follow_up_needed", "fatura itirazı", now=now,
                       follow_up=FollowUp(now + timedelta(days=1), "bench", "geri ara"))
        store.open_complaint(customer_id, "bench", "billing_error", "medium", None, "fazla çekim", now=now)
        store.record_consent(customer_id, "bench", "sms", False, now=now)


def run(db_path: Path, count: int, seed: int = 1) -> dict:
    # As the app opens a database: a warm-up on a background thread (crm360.queries.customer.warm_up);
    # lookups are timed once it is done, and its duration is reported.
    db = Database(db_path, warm_up=customer.warm_up)
    started = time.perf_counter()
    now = clock.now(db)
    db.warmed.wait()
    warm_up_seconds = time.perf_counter() - started
    total = db.row("SELECT count(*) FROM customers")[0]
    rng = random.Random(seed)
    picks = db.frame(
        "SELECT customer_id, phone, full_name FROM customers WHERE rowid IN (SELECT unnest(?))",
        [rng.sample(range(total), min(count, total))])
    _desk_writes(db_path, picks["customer_id"].to_list()[::2], now)
    loaded: dict[int, views.CustomerRecord] = {}

    def fetch(cid: int) -> None:
        loaded[cid] = customer.load_customer(db, cid)

    steps = {
        "fetch_rows": fetch,
        "alerts": lambda cid: (views.open_complaints(loaded[cid], now), views.recent_warnings(loaded[cid], now)),
        "talking_points": lambda cid: views.talking_points(loaded[cid], now),
        "timeline_page": lambda cid: views.timeline(loaded[cid]).slice(0, 50),
    }
    timings: dict[str, list[float]] = {name: [] for name in ("search", *steps, "whole_page")}
    for index, row in enumerate(picks.iter_rows(named=True)):
        # Alternate the ways an agent finds a customer: phone, customer number, name.
        typed = (_typed_phone(row["phone"]) if row["phone"] and index % 3 == 0
                 else row["full_name"] if index % 3 == 1 else str(row["customer_id"]))
        started = time.perf_counter()
        customer.search_customers(db, typed)
        timings["search"].append((time.perf_counter() - started) * 1000)
        for name, step in steps.items():
            step_started = time.perf_counter()
            step(row["customer_id"])
            timings[name].append((time.perf_counter() - step_started) * 1000)
        timings["whole_page"].append((time.perf_counter() - started) * 1000)
    return {"count": picks.height, "warm_up_seconds": warm_up_seconds,
            "queries": {name: millisecond_stats(values) for name, values in timings.items()}}


if __name__ == "__main__":
    print(json.dumps(run(Path(sys.argv[1]), int(sys.argv[2]))))
