"""`python -m bench.browser DB N`: in headless Chromium against the running app (server.py), prints
as JSON the seconds of
- N searches, from Enter in the search box to the customer's name on screen (no sign-in);
- N screen-pops in a browser already signed in (sign-in on, one agent signed in through the form
  once): each a fresh page load of /customer?customer=ID, as a telephony link opens it, from the
  navigation to the customer's name on screen. The sign-in comes from the session cookie."""
from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

from crm360.access import UserStore
from crm360.store import Database
from tests.browser import browser_missing_reason, chromium_page, running_app, search_and_wait

AGENT = "bench-agent"


def _stats(seconds: list[float]) -> dict:
    ordered = sorted(seconds)
    return {"count": len(seconds), "p50_s": ordered[len(ordered) // 2],
            "p95_s": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], "max_s": ordered[-1]}


def _customers(db_path: Path, count: int, seed: int):
    db = Database(db_path)
    total = db.row("SELECT count(*) FROM customer_summary")[0]
    return db.frame("SELECT customer_id, full_name FROM customer_summary WHERE rowid IN (SELECT unnest(?))",
                    [random.Random(seed).sample(range(total), min(count, total))])


def screen_pop_and_wait(page, base: str, customer_id: int, expected_name: str, timeout_ms: int = 15_000) -> float:
    """Open a screen-pop link as a new page load; seconds until the customer's name shows."""
    started = time.perf_counter()
    page.goto(f"{base}/customer?customer={customer_id}", wait_until="commit")
    page.get_by_role("heading", name=expected_name).first.wait_for(timeout=timeout_ms)
    return time.perf_counter() - started


def signed_in_screen_pops(db_path: Path, count: int, seed: int = 3) -> dict:
    rows = _customers(db_path, count + 1, seed)
    with tempfile.TemporaryDirectory() as stores:
        users = Path(stores) / "users.sqlite"
        password = UserStore(users).add(AGENT, "agent")
        env = {"CRM_AUTH": "password", "CRM_USERS": str(users), "CRM_AUDIT": str(Path(stores) / "audit.sqlite")}
        with running_app(db_path, env) as base, chromium_page(1280, 720, guard=False) as page:
            first, *others = rows.iter_rows(named=True)
            page.goto(f"{base}/customer?customer={first['customer_id']}")
            page.get_by_role("textbox", name="User name").fill(AGENT)
            page.get_by_role("textbox", name="Password").fill(password)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("heading", name=first["full_name"]).first.wait_for(timeout=30_000)  # also the warm-up
            deadline = time.time() + 15  # the page fetches the cookie in the background
            while not any(c["name"] == "crm360_session" for c in page.context.cookies()):
                if time.time() > deadline:
                    raise RuntimeError("signed in, but the browser holds no session cookie")
                time.sleep(0.1)
            seconds = [screen_pop_and_wait(page, base, row["customer_id"], row["full_name"]) for row in others]
            if page.get_by_role("button", name="Sign in").count():
                raise RuntimeError("a screen-pop asked for the password")
    return _stats(seconds)


def searches(db_path: Path, count: int, seed: int = 2) -> dict:
    rows = _customers(db_path, count, seed)
    seconds = []
    with running_app(db_path) as base, chromium_page(guard=False) as page:
        search_and_wait(page, base, str(rows["customer_id"][0]), rows["full_name"][0])  # warm-up
        for row in rows.iter_rows(named=True):
            seconds.append(search_and_wait(page, base, str(row["customer_id"]), row["full_name"]))
    return _stats(seconds)


def run(db_path: Path, count: int) -> dict:
    if reason := browser_missing_reason():
        return {"skipped": reason}
    return {**searches(db_path, count), "signed_in_screen_pop": signed_in_screen_pops(db_path, count)}


if __name__ == "__main__":
    print(json.dumps(run(Path(sys.argv[1]), int(sys.argv[2]))))
