"""Queries behind the customer lookup page: find a customer, show who they are and what
happened to them."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from crm360 import config
from crm360.store import Database
from crm360.textnorm import fold_text, normalize_email, normalize_phone

MAX_QUERY_LENGTH = 200
_CUSTOMER_NUMBER = re.compile(r"^\d{7,9}$")


@dataclass(frozen=True)
class SearchResult:
    """Ranked matches, how the input was understood, and a message for the agent."""

    kind: str            # customer_number | phone | email | name | invalid
    matches: pl.DataFrame
    message: str = ""


SEARCH_COLUMNS = """
    customer_id, full_name, city, phone, email, last_contact_at, orders, net_revenue_try,
    open_complaints
"""


def search_customers(db: Database, text: str | None, limit: int = 20) -> SearchResult:
    """Find customers by customer number, phone (any common typing), e-mail or name.

    Names match case- and Turkish-letter-insensitively, every typed word as part of the name,
    in any order.
    """
    query = (text or "").strip()
    if not query:
        return SearchResult("invalid", _empty(), "Type a name, phone number, e-mail or customer number.")
    if len(query) > MAX_QUERY_LENGTH:
        return SearchResult("invalid", _empty(),
                            f"That is {len(query):,} characters; a search takes at most "
                            f"{MAX_QUERY_LENGTH}. Type a name, phone, e-mail or customer number.")
    if _CUSTOMER_NUMBER.match(query):
        return SearchResult("customer_number", _fetch(db, "customer_id = ?", [int(query)], limit))
    if "@" in query:
        email = normalize_email(query)
        if email is None:
            return SearchResult("invalid", _empty(), f"“{query}” is not a complete e-mail address.")
        return SearchResult("email", _fetch(db, "email = ?", [email], limit))
    phone = normalize_phone(query) if re.fullmatch(r"[\d\s()+.\-/]+", query) else None
    if phone is not None:
        return SearchResult("phone", _fetch(db, "phone = ?", [phone], limit))
    if re.fullmatch(r"[\d\s()+.\-/]+", query):
        return SearchResult("invalid", _empty(),
                            f"“{query}” is neither a customer number (7-9 digits) nor a phone number.")
    return SearchResult("name", _search_name(db, query, limit))


def _empty() -> pl.DataFrame:
    return pl.DataFrame()


def _fetch(db: Database, where: str, params: list, limit: int) -> pl.DataFrame:
    return db.frame(
            f"SELECT {SEARCH_COLUMNS} FROM customer_summary WHERE {where} "
            "ORDER BY last_contact_at DESC NULLS LAST LIMIT ?", [*params, limit])


def _search_name(db: Database, query: str, limit: int) -> pl.DataFrame:
    words = [w for w in re.split(r"[^\w]+", fold_text(query)) if w][:6]
    if not words:
        return _empty()
    # Every word must appear in the folded name; whole-name and word-start matches rank first.
    conditions = " AND ".join("contains(name_key, ?)" for _ in words)
    key = " ".join(words)
    return db.frame(
            f"""SELECT {SEARCH_COLUMNS} FROM customer_summary
                WHERE {conditions}
                ORDER BY (name_key = ?) DESC, starts_with(name_key, ?) DESC,
                         last_contact_at DESC NULLS LAST, customer_id
                LIMIT ?""", [*words, key, words[0], limit])


def customer_profile(db: Database, customer_id: int) -> dict | None:
    """The header an agent reads first: identity, value, consent, open matters."""
    rows = db.frame(
            """SELECT s.*, c.consent_email_at, c.consent_sms_at, c.consent_phone_at,
                      c.do_not_contact_at
               FROM customer_summary s JOIN customers c USING (customer_id)
               WHERE s.customer_id = ?""", [customer_id])
    return rows.row(0, named=True) if rows.height else None


def open_complaints(db: Database, customer_id: int, now: datetime) -> pl.DataFrame:
    """Open complaints, oldest first, with their age and the 24-hour promise state."""
    promise = config.RESPONSE_PROMISE_HOURS
    return db.frame(
            f"""SELECT complaint_id, opened_at, channel, category, severity, status,
                       first_response_at, description,
                       date_diff('minute', opened_at, ?::TIMESTAMP) / 60.0 AS age_hours,
                       CASE WHEN first_response_at IS NOT NULL THEN 'answered'
                            WHEN opened_at + INTERVAL {promise} HOUR < ?::TIMESTAMP THEN 'breached'
                            ELSE 'due' END AS promise_state,
                       {promise} - date_diff('minute', opened_at, ?::TIMESTAMP) / 60.0
                           AS hours_to_deadline
                FROM complaints
                WHERE customer_id = ? AND status <> 'resolved'
                ORDER BY opened_at""", [now, now, now, customer_id])


def recent_history(db: Database, customer_id: int, limit: int = 50) -> pl.DataFrame:
    """Every contact, order, complaint and survey answer of one customer, newest first."""
    return db.frame(
            """SELECT * FROM (
                   SELECT started_at AS happened_at, 'contact' AS kind, channel,
                          topic || ' (' || coalesce(direction, '?') || ')' AS summary,
                          notes AS detail
                   FROM interactions WHERE customer_id = $1
                   UNION ALL
                   SELECT ordered_at, 'purchase', sales_channel,
                          coalesce(p.name, o.category, 'order') || ' × ' || coalesce(quantity, 1)
                              || ' — ' || status,
                          printf('%.2f TRY', net_amount_try)
                   FROM purchases o LEFT JOIN products p USING (product_id)
                   WHERE customer_id = $1
                   UNION ALL
                   SELECT opened_at, 'complaint', channel,
                          replace(category, '_', ' ') || ' — ' || status, description
                   FROM complaints WHERE customer_id = $1
                   UNION ALL
                   SELECT responded_at, 'survey', touchpoint, 'NPS ' || nps_score, comment
                   FROM survey_responses WHERE customer_id = $1
               ) ORDER BY happened_at DESC LIMIT $2""", [customer_id, limit])
