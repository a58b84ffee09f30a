"""Queries behind the outreach page: who should hear from us first."""
from __future__ import annotations

from dataclasses import dataclass, replace
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


@dataclass(frozen=True)
class CandidateFilter:
    """The outreach page's filters; an empty tuple means "any"."""

    rules: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    churn_bands: tuple[str, ...] = ()
    min_value_try: float | None = None
    max_value_try: float | None = None
    held_back: tuple[int, ...] = ()  # contacted in a campaign too recently (the contact-pressure hold)

    def where(self) -> tuple[str, list]:
        conditions, params = ["true"], []
        if self.held_back:
            conditions.append("customer_id NOT IN (SELECT unnest(?::BIGINT[]))")
            params.append(list(self.held_back))
        for column, chosen in (("rfm_segment", self.segments), ("loyalty_tier", self.tiers), ("city", self.cities),
                               ("churn_risk_band", self.churn_bands)):
            if chosen:
                conditions.append(f"{column} IN (SELECT unnest(?::VARCHAR[]))")
                params.append(list(chosen))
        if self.rules:
            conditions.append("list_has_any(rules, ?::VARCHAR[])")
            params.append(list(self.rules))
        if self.channels:
            conditions.append("(service_channel IN (SELECT unnest(?::VARCHAR[])) "
                              "OR marketing_channel IN (SELECT unnest(?::VARCHAR[])))")
            params += [list(self.channels), list(self.channels)]
        if self.min_value_try is not None:
            conditions.append("value_at_stake_try >= ?")
            params.append(self.min_value_try)
        if self.max_value_try is not None:
            conditions.append("value_at_stake_try <= ?")
            params.append(self.max_value_try)
        return " AND ".join(conditions), params


CANDIDATE_COLUMNS = """customer_id, full_name, city, rfm_segment, loyalty_tier, churn_risk_band, reasons, rules,
    service_channel, marketing_channel, value_at_stake_try, chance_contact_helps, priority"""


def candidates(db: Database, chosen: CandidateFilter, limit: int | None = 1_000) -> pl.DataFrame:
    """The filtered outreach list, highest priority first (all of it with limit=None)."""
    where, params = chosen.where()
    return db.frame(f"SELECT {CANDIDATE_COLUMNS} FROM outreach_candidates WHERE {where} "
                    f"ORDER BY priority DESC, customer_id{' LIMIT ?' if limit else ''}",
                    params + ([limit] if limit else []))


def held_back_count(db: Database, chosen: CandidateFilter) -> int:
    """How many customers the filters would list but the contact-pressure hold keeps back."""
    if not chosen.held_back:
        return 0
    where, params = replace(chosen, held_back=()).where()
    return db.row(f"""SELECT count(*) FROM outreach_candidates
                       WHERE {where} AND customer_id IN (SELECT unnest(?::BIGINT[]))""",
                  [*params, list(chosen.held_back)])[0]


def candidate_totals(db: Database, chosen: CandidateFilter) -> dict:
    where, params = chosen.where()
    customers, stake, service, marketing = db.row(
        f"""SELECT count(*), coalesce(sum(value_at_stake_try), 0), count(*) FILTER (WHERE service),
                   count(*) FILTER (WHERE marketing)
            FROM outreach_candidates WHERE {where}""", params)
    return {"customers": customers, "value_at_stake_try": float(stake), "service": service, "marketing": marketing}


def candidates_by_rule(db: Database, chosen: CandidateFilter) -> pl.DataFrame:
    where, params = chosen.where()
    return db.frame(
        f"""SELECT rule, count(*) AS customers, sum(value_at_stake_try) AS value_at_stake_try
            FROM (SELECT unnest(rules) AS rule, value_at_stake_try FROM outreach_candidates WHERE {where})
            GROUP BY rule ORDER BY customers DESC""", params)


def candidate_cities(db: Database) -> list[str]:
    return db.frame("SELECT DISTINCT city FROM outreach_candidates WHERE city IS NOT NULL ORDER BY city")[
        "city"].to_list()
