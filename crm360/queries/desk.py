"""What the wrap-up forms and the follow-ups page read from the published database: the product
list a complaint names, and the names of the customers on a list of tasks. Pure polars for
sorting tasks into overdue, due today and upcoming, so the rule is tested without a page."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

import polars as pl

from crm360.store import Database, Snapshot

WHEN_ORDER = ("overdue", "today", "upcoming")


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
