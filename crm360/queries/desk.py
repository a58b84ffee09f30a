"""What the wrap-up forms and the follow-ups page read from the published database: the product
list a complaint names, and the names of the customers on a list of tasks. Pure polars for
sorting tasks into overdue, due today and upcoming, so the rule is tested without a page."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from crm360.store import Database, Snapshot

# The agents' time zone: "today" is their calendar day, and they type and read due times in it.
# The stores keep the server's local time without a zone (`datetime.now()`, as the desk writes
# it): the same thing on a server set to Istanbul, three hours apart on one set to UTC.
TIMEZONE = ZoneInfo("Europe/Istanbul")
WHEN_ORDER = ("overdue", "today", "upcoming")


def local_now() -> datetime:
    """Now on the wall clock in Europe/Istanbul, without a zone."""
    return istanbul_time(datetime.now().replace(microsecond=0))


def istanbul_time(server_moment: datetime) -> datetime:
    """A stored moment (server-local, no zone) as Istanbul wall time (no zone)."""
    return server_moment.astimezone(TIMEZONE).replace(tzinfo=None)


def server_time(istanbul_moment: datetime) -> datetime:
    """An Istanbul wall time an agent typed, as the server-local moment the stores keep."""
    return istanbul_moment.replace(tzinfo=TIMEZONE).astimezone().replace(tzinfo=None)


def in_istanbul(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """The frame with the given moment columns (server-local) as Istanbul wall time. Per value in
    Python: a task list is short, and each moment gets its own date's offset."""
    return frame.with_columns(pl.col(name).map_elements(istanbul_time, return_dtype=pl.Datetime("us"))
                              for name in columns)


def products(db: Database) -> pl.DataFrame:
    """Every product (product_id, name, category), by category and name: the choices of a complaint."""
    return db.memo("desk-products", _products)


def _products(snap: Snapshot) -> pl.DataFrame:
    return snap.frame("SELECT product_id, name, category FROM products WHERE product_id IS NOT NULL "
                      "ORDER BY category, name, product_id")


def customer_names(db: Database, customer_ids: Sequence[int]) -> pl.DataFrame:
    """(customer_id, full_name, city) of the given customers; unknown numbers are left out."""
    ids = sorted({int(i) for i in customer_ids})
    if not ids:
        return pl.DataFrame(schema={"customer_id": pl.Int64, "full_name": pl.String, "city": pl.String})
    return db.frame("SELECT customer_id, full_name, city FROM customers WHERE customer_id IN "
                    "(SELECT unnest(?::BIGINT[]))", [ids])


def classify_tasks(tasks: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """The tasks with `when`: overdue (due before now), today (due from now to midnight, today
    being `now`'s calendar day) or upcoming; overdue first, then by due time."""
    midnight = datetime.combine(now.date() + timedelta(days=1), time.min)
    due = pl.col("due_at")
    when = (pl.when(due < pl.lit(now, dtype=pl.Datetime("us"))).then(pl.lit("overdue"))
            .when(due < pl.lit(midnight, dtype=pl.Datetime("us"))).then(pl.lit("today"))
            .otherwise(pl.lit("upcoming")))
    order = pl.col("when").replace_strict({w: i for i, w in enumerate(WHEN_ORDER)}, return_dtype=pl.Int8)
    return tasks.with_columns(when.alias("when")).sort(order, "due_at", "task_id")


def counts_by_when(classified: pl.DataFrame) -> dict[str, int]:
    """How many tasks are overdue, due today and upcoming (every key present)."""
    counted = dict(classified.group_by("when").len().iter_rows()) if classified.height else {}
    return {when: int(counted.get(when, 0)) for when in WHEN_ORDER}


def overdue_by_owner(classified: pl.DataFrame) -> pl.DataFrame:
    """Per owner: open tasks, overdue, due today, upcoming; most overdue first."""
    if classified.is_empty():
        return pl.DataFrame(schema={"owner": pl.String, "open": pl.UInt32, **{w: pl.UInt32 for w in WHEN_ORDER}})
    return (classified.group_by("owner")
            .agg(pl.len().alias("open"), *((pl.col("when") == w).sum().alias(w) for w in WHEN_ORDER))
            .sort(["overdue", "open", "owner"], descending=[True, True, False]))
