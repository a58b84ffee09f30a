"""Queries behind the outreach page: who should hear from us first."""
from __future__ import annotations

from datetime import datetime

import polars as pl

from crm360 import config
from crm360.store import Database


def overdue_complaints(db: Database, now: datetime, limit: int = 500) -> pl.DataFrame:
    """Open complaints with no answer after the 24-hour promise, longest waiting first.

    A service contact: the customer raised the matter, so no marketing consent is needed, but
    a customer who asked not to be contacted at all is left out (and counted separately).
    """
    promise = config.RESPONSE_PROMISE_HOURS
    return db.frame(
            f"""SELECT m.complaint_id, m.customer_id, s.full_name, s.city,
                       m.category, m.severity, m.channel, m.opened_at,
                       round(date_diff('minute', m.opened_at, $1::TIMESTAMP) / 60.0, 1) AS hours_waiting,
                       s.phone, s.email, s.net_revenue_try
                FROM complaints m JOIN customer_summary s USING (customer_id)
                WHERE m.status <> 'resolved' AND m.first_response_at IS NULL
                  AND m.opened_at + INTERVAL {promise} HOUR < $1::TIMESTAMP
                  AND NOT s.do_not_contact
                ORDER BY CASE m.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1
                                         WHEN 'medium' THEN 2 ELSE 3 END,
                         m.opened_at
                LIMIT $2""", [now, limit])


def overdue_counts(db: Database, now: datetime) -> dict[str, int]:
    """How many overdue complaints there are, and how many are held back by do-not-contact."""
    promise = config.RESPONSE_PROMISE_HOURS
    total, held_back = db.row(
            f"""SELECT count(*), count(*) FILTER (WHERE c.do_not_contact)
                FROM complaints m JOIN customers c USING (customer_id)
                WHERE m.status <> 'resolved' AND m.first_response_at IS NULL
                  AND m.opened_at + INTERVAL {promise} HOUR < ?::TIMESTAMP""", [now])
    return {"overdue": total, "do_not_contact": held_back, "listed": total - held_back}


def fixed_issue_candidates(db: Database, limit: int = 500) -> pl.DataFrame:
    """Customers who complained about a product defect that has since been fixed: tell them.

    The source documents' own example of proactive service. One row per customer and defect,
    newest fix first; do-not-contact customers are left out.
    """
    return db.frame(
        """SELECT i.title AS defect, i.fix_shipped_at, i.fix_description,
                  s.customer_id, s.full_name, s.city, s.preferred_channel,
                  max(c.opened_at) AS complained_at, count(*) AS complaints
           FROM complaints c
           JOIN product_issues i ON i.product_id = c.product_id
           JOIN customer_summary s ON s.customer_id = c.customer_id
           WHERE c.category = 'defective_product' AND i.fix_shipped_at IS NOT NULL
             AND c.opened_at < i.fix_shipped_at AND NOT s.do_not_contact
           GROUP BY ALL
           ORDER BY i.fix_shipped_at DESC, complained_at DESC
           LIMIT ?""", [limit])
