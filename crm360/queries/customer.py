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


TYPO_MIN_LENGTH = 5  # one typo is tolerated in words this long; shorter words match too much


def _search_name(db: Database, query: str, limit: int) -> pl.DataFrame:
    words = [w for w in re.split(r"[^\w]+", fold_text(query)) if w][:6]
    if not words:
        return _empty()
    exact = _name_matches(db, words, limit, tolerate_typos=False)
    if not exact.is_empty() or not any(len(w) >= TYPO_MIN_LENGTH for w in words):
        return exact
    return _name_matches(db, words, limit, tolerate_typos=True)


def _name_matches(db: Database, words: list[str], limit: int, tolerate_typos: bool) -> pl.DataFrame:
    """Every typed word must be part of the folded name, in any order ("ayse yil" finds
    "Ayşe Yılmaz"); with `tolerate_typos`, a long word may instead be one edit away from a
    whole word of the name. Whole-name and word-start matches rank first."""
    conditions, condition_params = [], []
    for word in words:
        if tolerate_typos and len(word) >= TYPO_MIN_LENGTH:
            conditions.append("len(list_filter(string_split(name_key, ' '), lambda t: "
                              "damerau_levenshtein(t, ?) <= 1 OR starts_with(t, ?))) > 0")
            condition_params += [word, word]
        else:
            conditions.append("contains(name_key, ?)")
            condition_params.append(word)
    word_starts = " + ".join("(starts_with(name_key, ?) OR contains(name_key, ?))::INT" for _ in words)
    start_params = [part for word in words for part in (word, " " + word)]
    return db.frame(
        f"""SELECT {SEARCH_COLUMNS} FROM customer_summary
            WHERE {" AND ".join(conditions)}
            ORDER BY (name_key = ?) DESC, {word_starts} DESC, last_contact_at DESC NULLS LAST, customer_id
            LIMIT ?""", [*condition_params, " ".join(words), *start_params, limit])


def customer_profile(db: Database, customer_id: int) -> dict | None:
    """The header an agent reads first: identity, value, consent, open matters."""
    rows = db.frame("SELECT * FROM customer_summary WHERE customer_id = ?", [customer_id])
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


ALERT_WINDOW_DAYS = 30  # "recent" for a bad answer or a return: what an agent should mention


def recent_warnings(db: Database, customer_id: int, now: datetime) -> pl.DataFrame:
    """Bad CSAT (1-2) or NPS detractor (0-6) answers and returns in the last 30 days, newest
    first, each with the table and id it came from."""
    return db.frame(
        f"""SELECT * FROM (
               SELECT started_at AS happened_at, 'bad_csat' AS kind, 'interactions' AS source,
                      interaction_id AS source_id,
                      'Rated a ' || channel || ' contact ' || csat || '/5 (' || coalesce(topic, '') || ')' AS message
               FROM interactions WHERE customer_id = $1 AND csat <= 2
               UNION ALL
               SELECT responded_at, 'detractor', 'survey_responses', survey_id,
                      'NPS ' || nps_score || '/10 after ' || replace(touchpoint, '_', ' ')
               FROM survey_responses WHERE customer_id = $1 AND nps_score <= 6
               UNION ALL
               SELECT ordered_at, 'return', 'purchases', order_id,
                      'Returned ' || coalesce(p.name, o.category, 'an order') || printf(' (%.2f TRY)', net_amount_try)
               FROM purchases o LEFT JOIN products p USING (product_id)
               WHERE customer_id = $1 AND status = 'returned'
           ) WHERE happened_at > $2::TIMESTAMP - INTERVAL {ALERT_WINDOW_DAYS} DAY AND happened_at <= $2::TIMESTAMP
           ORDER BY happened_at DESC""", [customer_id, now])


TIMELINE_KINDS = ("contact", "purchase", "return", "complaint", "survey")

_TIMELINE_PARTS = {
    "contact": """SELECT started_at AS happened_at, 'contact' AS kind, channel,
                         replace(coalesce(topic, 'contact'), '_', ' ')
                             || ' (' || coalesce(direction, '?') || ')' AS summary,
                         notes AS detail, 'interactions' AS source, interaction_id AS source_id
                  FROM interactions WHERE customer_id = $1""",
    "purchase": """SELECT ordered_at AS happened_at,
                          CASE status WHEN 'returned' THEN 'return' ELSE 'purchase' END AS kind,
                          sales_channel AS channel,
                          coalesce(p.name, o.category, 'order') || ' × ' || coalesce(quantity, 1) || ' — ' || status
                              AS summary,
                          printf('%.2f TRY', net_amount_try) AS detail, 'purchases' AS source, order_id AS source_id
                   FROM purchases o LEFT JOIN products p USING (product_id) WHERE customer_id = $1""",
    "complaint": """SELECT e.happened_at AS happened_at, 'complaint' AS kind, channel,
                           replace(category, '_', ' ') || ' — ' || e.step AS summary, e.detail AS detail,
                           'complaints' AS source, complaint_id AS source_id
                    FROM complaints c,
                         LATERAL (SELECT * FROM (VALUES (c.opened_at, 'opened', c.description),
                                                        (c.first_response_at, 'answered', NULL),
                                                        (c.resolved_at, 'resolved', c.resolution))
                                  t(happened_at, step, detail) WHERE happened_at IS NOT NULL) e
                    WHERE customer_id = $1""",
    "survey": """SELECT responded_at AS happened_at, 'survey' AS kind, touchpoint AS channel,
                        'NPS ' || nps_score || '/10' AS summary, comment AS detail,
                        'survey_responses' AS source, survey_id AS source_id
                 FROM survey_responses WHERE customer_id = $1""",
}


def _timeline_sql(kinds: tuple[str, ...]) -> str:
    parts = [_TIMELINE_PARTS[k] for k in ("contact", "purchase", "complaint", "survey")
             if k in kinds or (k == "purchase" and "return" in kinds)]
    return " UNION ALL ".join(parts) if parts else _TIMELINE_PARTS["contact"] + " AND false"


def customer_timeline(db: Database, customer_id: int, *, kinds: tuple[str, ...] = TIMELINE_KINDS,
                      channels: tuple[str, ...] = (), start: datetime | None = None,
                      end: datetime | None = None, limit: int = 50, offset: int = 0) -> pl.DataFrame:
    """One page of everything that happened to a customer, newest first, with filters.

    No cap: any page of a customer with thousands of events is one query. `channels` empty
    means every channel."""
    return db.frame(
        f"""SELECT * FROM ({_timeline_sql(kinds)}) t
            WHERE list_contains($2, kind) AND (len($3) = 0 OR list_contains($3, channel))
              AND ($4::TIMESTAMP IS NULL OR happened_at >= $4) AND ($5::TIMESTAMP IS NULL OR happened_at <= $5)
            ORDER BY happened_at DESC, source, source_id LIMIT $6 OFFSET $7""",
        [customer_id, list(kinds), list(channels), start, end, limit, offset])


def timeline_size(db: Database, customer_id: int, *, kinds: tuple[str, ...] = TIMELINE_KINDS,
                  channels: tuple[str, ...] = (), start: datetime | None = None,
                  end: datetime | None = None) -> int:
    return db.row(
        f"""SELECT count(*) FROM ({_timeline_sql(kinds)}) t
            WHERE list_contains($2, kind) AND (len($3) = 0 OR list_contains($3, channel))
              AND ($4::TIMESTAMP IS NULL OR happened_at >= $4) AND ($5::TIMESTAMP IS NULL OR happened_at <= $5)""",
        [customer_id, list(kinds), list(channels), start, end])[0]


@dataclass(frozen=True)
class TalkingPoint:
    text: str
    source: str       # the table the point comes from
    source_id: int    # the row in it, so an agent (or a test) can trace the point


def talking_points(db: Database, customer_id: int, now: datetime) -> list[TalkingPoint]:
    """Things worth saying on this call, each traceable to the rows behind it."""
    profile = customer_profile(db, customer_id)
    if profile is None:
        return []
    points = _complaint_points(db, customer_id, now) + _fixed_defect_points(db, customer_id)
    points += _value_points(profile) + _rhythm_points(profile, now) + _birthday_points(profile, now)
    return points


def _days_ago(moment: datetime, now: datetime) -> str:
    days = (now - moment).days
    return "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"


def _complaint_points(db: Database, customer_id: int, now: datetime) -> list[TalkingPoint]:
    rows = db.frame(
        """SELECT c.complaint_id, c.opened_at, c.channel, c.category, c.status, p.name AS product
           FROM complaints c LEFT JOIN products p USING (product_id)
           WHERE c.customer_id = ? AND c.status <> 'resolved' ORDER BY c.opened_at DESC""", [customer_id])
    verbs = {"phone": "Called", "email": "Wrote", "post": "Wrote", "in_person": "Came in",
             "social": "Posted", "web_chat": "Chatted", "sms": "Texted"}
    return [TalkingPoint(
        f"{verbs.get(r['channel'], 'Got in touch')} {_days_ago(r['opened_at'], now)} about "
        f"{r['category'].replace('_', ' ')}{' (' + r['product'] + ')' if r['product'] else ''}; "
        f"{'still open, not yet answered' if r['status'] == 'open' else 'answered, not resolved yet'}",
        "complaints", r["complaint_id"]) for r in rows.iter_rows(named=True)]


def _fixed_defect_points(db: Database, customer_id: int) -> list[TalkingPoint]:
    rows = db.frame(
        """SELECT max(c.complaint_id) AS complaint_id, p.name AS product, i.title, i.fix_shipped_at
           FROM complaints c JOIN product_issues i USING (product_id) JOIN products p USING (product_id)
           WHERE c.customer_id = ? AND c.category = 'defective_product'
             AND i.fix_shipped_at IS NOT NULL AND c.opened_at < i.fix_shipped_at
           GROUP BY ALL ORDER BY i.fix_shipped_at DESC""", [customer_id])
    return [TalkingPoint(
        f"Complained about the {r['product']} defect ({r['title'].split(': ', 1)[-1]}), fixed since "
        f"{r['fix_shipped_at']:%d.%m.%Y}: tell them", "complaints", r["complaint_id"])
        for r in rows.iter_rows(named=True)]


def _value_points(profile: dict) -> list[TalkingPoint]:
    share = profile["value_top_share"]
    if share is None or share > 0.2:
        return []
    band = "5%" if share <= 0.05 else "20%"
    return [TalkingPoint(f"Top {band} customer by value (₺{profile['net_revenue_try']:,.0f} so far, "
                         f"{profile['orders']} orders)", "customer_summary", profile["customer_id"])]


def _rhythm_points(profile: dict, now: datetime) -> list[TalkingPoint]:
    usual, last = profile["usual_days_between_orders"], profile["last_purchase_at"]
    if usual is None or last is None or profile["orders"] < 3:
        return []
    quiet = (now - last).days
    if quiet <= 2 * max(usual, 7):
        return []
    return [TalkingPoint(f"Last bought {quiet} days ago; usually every {usual:.0f} days",
                         "customer_summary", profile["customer_id"])]


def _birthday_points(profile: dict, now: datetime) -> list[TalkingPoint]:
    born = profile["birth_date"]
    if born is None:
        return []
    for year in (now.year, now.year + 1):
        try:
            birthday = born.replace(year=year)
        except ValueError:  # 29 February in a common year
            birthday = born.replace(year=year, day=28)
        if 0 <= (birthday - now.date()).days < 7:
            return [TalkingPoint(f"Birthday this week ({birthday:%d.%m}, turns {year - born.year})",
                                 "customers", profile["customer_id"])]
    return []


def purchase_totals(db: Database, customer_id: int) -> dict:
    """Orders and money by status; the purchases tab's headline."""
    return db.frame(
        """SELECT count(*) FILTER (WHERE status = 'completed') AS completed,
                  count(*) FILTER (WHERE status = 'returned') AS returned,
                  count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
                  coalesce(sum(net_amount_try) FILTER (WHERE status = 'completed'), 0)::DOUBLE AS net_revenue_try,
                  coalesce(sum(net_amount_try) FILTER (WHERE status = 'returned'), 0)::DOUBLE AS returned_try
           FROM purchases WHERE customer_id = ?""", [customer_id]).row(0, named=True)


def monthly_spend(db: Database, customer_id: int) -> pl.DataFrame:
    """Net revenue of completed orders per month, for the spend-over-time chart."""
    return db.frame(
        """SELECT date_trunc('month', ordered_at)::DATE AS month, sum(net_amount_try)::DOUBLE AS net_revenue_try,
                  count(*) AS orders
           FROM purchases WHERE customer_id = ? AND status = 'completed' GROUP BY ALL ORDER BY month""",
        [customer_id])


def complaint_history(db: Database, customer_id: int) -> pl.DataFrame:
    """Every complaint with its first-response and resolution times in hours."""
    return db.frame(
        """SELECT c.complaint_id, c.opened_at, c.channel, replace(c.category, '_', ' ') AS category,
                  c.severity, c.status, p.name AS product,
                  round(date_diff('minute', c.opened_at, c.first_response_at) / 60.0, 1) AS response_hours,
                  round(date_diff('minute', c.opened_at, c.resolved_at) / 60.0, 1) AS resolution_hours,
                  c.satisfaction_after, c.resolution
           FROM complaints c LEFT JOIN products p USING (product_id)
           WHERE c.customer_id = ? ORDER BY c.opened_at DESC""", [customer_id])


def contacts_by_channel(db: Database, customer_id: int) -> pl.DataFrame:
    """Per channel: how often, inbound and outbound, resolved at first contact, the last time."""
    return db.frame(
        """SELECT channel, count(*) AS contacts,
                  count(*) FILTER (WHERE direction = 'inbound') AS inbound,
                  count(*) FILTER (WHERE direction = 'outbound') AS outbound,
                  count(*) FILTER (WHERE resolved_on_first_contact) AS resolved_first_contact,
                  max(started_at) AS last_contact_at
           FROM interactions WHERE customer_id = ? GROUP BY channel ORDER BY contacts DESC""", [customer_id])


def satisfaction_history(db: Database, customer_id: int) -> pl.DataFrame:
    """Every CSAT (1-5) and NPS (0-10) answer over time, for the satisfaction chart."""
    return db.frame(
        """SELECT started_at AS answered_at, 'CSAT (1-5)' AS measure, csat::INTEGER AS score
           FROM interactions WHERE customer_id = $1 AND csat IS NOT NULL
           UNION ALL
           SELECT responded_at, 'NPS (0-10)', nps_score::INTEGER FROM survey_responses WHERE customer_id = $1
           ORDER BY answered_at""", [customer_id])
