"""Did a campaign work? Its customers' purchases and complaints after contact, against the control
group drawn when it was created and never contacted.

Three groups, each observed for `config.CAMPAIGN_RESULT_WINDOW_DAYS` (or until now, if sooner):
- `contacted`: customers on the list who were contacted, from the moment of contact;
- `list`: everyone on the list meant to be contacted, reached or not, from the campaign's
  creation. Compared with the control group this is the honest effect of running the campaign:
  the contacted alone are those who picked up, who may well have bought anyway;
- `control`: the held-back group, from the campaign's creation.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

import polars as pl

from crm360 import config
from crm360.store import Database

GROUPS = ("contacted", "list", "control")
# (column, short label, what it is) for every outcome measured per customer in the window.
OUTCOMES = (
    ("bought", "Bought", "share who placed a completed order"),
    ("orders", "Orders per customer", "completed orders per customer"),
    ("revenue_try", "Revenue per customer", "net revenue of completed orders per customer (TRY)"),
    ("complained", "Complained", "share who opened a complaint"),
    ("complaints", "Complaints per customer", "complaints opened per customer"),
)
Z_95 = 1.959964


def group_outcomes(db: Database, members: Sequence[dict], created_at: datetime, now: datetime,
                   window_days: int = config.CAMPAIGN_RESULT_WINDOW_DAYS) -> pl.DataFrame:
    """Per group: customers, mean and variance of each outcome per customer, and the days observed.

    `members` are the campaign store's rows (customer_id, control, contacted_at)."""
    customer_ids = [int(m["customer_id"]) for m in members]
    control = [bool(m["control"]) for m in members]
    contacted = [datetime.fromisoformat(m["contacted_at"]) if m["contacted_at"] else None for m in members]
    means = ", ".join(f"avg({name}) AS {name}, var_samp({name}) AS {name}_variance" for name, *_ in OUTCOMES)
    return db.frame(
        f"""WITH members AS (
                SELECT unnest($1::BIGINT[]) AS customer_id, unnest($2::BOOLEAN[]) AS control,
                       unnest($3::TIMESTAMP[]) AS contacted_at),
            observed AS (
                SELECT customer_id, 'control' AS grp, $4::TIMESTAMP AS starts FROM members WHERE control
                UNION ALL
                SELECT customer_id, 'list', $4::TIMESTAMP FROM members WHERE NOT control
                UNION ALL
                SELECT customer_id, 'contacted', contacted_at FROM members
                WHERE NOT control AND contacted_at IS NOT NULL),
            windows AS (
                SELECT customer_id, grp, starts,
                       greatest(starts, least(starts + to_days($6::INTEGER), $5::TIMESTAMP)) AS ends
                FROM observed),
            bought AS (
                SELECT w.customer_id, w.grp, count(*) AS orders, sum(p.net_amount_try)::DOUBLE AS revenue_try
                FROM windows w JOIN purchases p ON p.customer_id = w.customer_id
                 AND p.ordered_at >= w.starts AND p.ordered_at < w.ends AND p.status = 'completed'
                GROUP BY ALL),
            complained AS (
                SELECT w.customer_id, w.grp, count(*) AS complaints
                FROM windows w JOIN complaints c ON c.customer_id = w.customer_id
                 AND c.opened_at >= w.starts AND c.opened_at < w.ends
                GROUP BY ALL),
            per_customer AS (
                SELECT w.grp, date_diff('second', w.starts, w.ends) / 86400.0 AS days,
                       (coalesce(b.orders, 0) > 0)::INTEGER AS bought, coalesce(b.orders, 0) AS orders,
                       coalesce(b.revenue_try, 0) AS revenue_try,
                       (coalesce(c.complaints, 0) > 0)::INTEGER AS complained,
                       coalesce(c.complaints, 0) AS complaints
                FROM windows w
                LEFT JOIN bought b USING (customer_id, grp)
                LEFT JOIN complained c USING (customer_id, grp))
            SELECT grp AS "group", count(*) AS customers, avg(days) AS days_observed, {means}
            FROM per_customer GROUP BY grp ORDER BY list_position(['contacted', 'list', 'control'], grp)""",
        [customer_ids, control, contacted, created_at, now, window_days])


def effects(outcomes: pl.DataFrame, treated: str, baseline: str = "control") -> pl.DataFrame:
    """Each outcome's difference between two groups with a 95% interval (normal approximation,
    unequal variances). `verdict` says in words whether the interval excludes no effect."""
    by_group = {row["group"]: row for row in outcomes.iter_rows(named=True)}
    rows = []
    for name, label, meaning in OUTCOMES:
        one, other = by_group.get(treated), by_group.get(baseline)
        if one is None or other is None or one["customers"] < 2 or other["customers"] < 2:
            rows.append({"outcome": name, "label": label, "meaning": meaning, treated: one and one[name],
                         baseline: other and other[name], "difference": None, "low": None, "high": None,
                         "verdict": "too few customers to tell"})
            continue
        difference = one[name] - other[name]
        spread = Z_95 * math.sqrt(one[f"{name}_variance"] / one["customers"]
                                  + other[f"{name}_variance"] / other["customers"])
        low, high = difference - spread, difference + spread
        verdict = ("higher than the control group" if low > 0 else "lower than the control group" if high < 0
                   else "no difference the data can show")
        rows.append({"outcome": name, "label": label, "meaning": meaning, treated: one[name], baseline: other[name],
                     "difference": difference, "low": low, "high": high, "verdict": verdict})
    return pl.DataFrame(rows, schema={"outcome": pl.String, "label": pl.String, "meaning": pl.String,
                                      treated: pl.Float64,
                                      baseline: pl.Float64, "difference": pl.Float64, "low": pl.Float64,
                                      "high": pl.Float64, "verdict": pl.String})
