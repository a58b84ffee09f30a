"""`python -m bench.browser DB N`: N searches in headless Chromium against the running app, from
Enter in the search box to the customer's name on screen; prints the seconds as JSON."""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from crm360.store import Database
from tests.browser import browser_missing_reason, chromium_page, running_app, search_and_wait


def run(db_path: Path, count: int, seed: int = 2) -> dict:
    if reason := browser_missing_reason():
        return {"skipped": reason}
    db = Database(db_path)
    total = db.row("SELECT count(*) FROM customer_summary")[0]
    rows = db.frame("SELECT customer_id, full_name FROM customer_summary WHERE rowid IN (SELECT unnest(?))",
                    [random.Random(seed).sample(range(total), min(count, total))])
    seconds = []
    with running_app(db_path) as base, chromium_page() as page:
        search_and_wait(page, base, str(rows["customer_id"][0]), rows["full_name"][0])  # warm-up
        for row in rows.iter_rows(named=True):
            seconds.append(search_and_wait(page, base, str(row["customer_id"]), row["full_name"]))
    ordered = sorted(seconds)
    return {"count": len(seconds), "p50_s": ordered[len(ordered) // 2],
            "p95_s": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], "max_s": ordered[-1]}


if __name__ == "__main__":
    print(json.dumps(run(Path(sys.argv[1]), int(sys.argv[2]))))
