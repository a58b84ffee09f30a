"""Queries behind the customer lookup page: find a customer, and fetch everything on record about
them in a few indexed reads (the page derives its views from those rows, see crm360.record)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from crm360.record import CustomerRecord
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


def _prefix_bounds(word: str) -> tuple[str, str]:
    """The range of words starting with `word`: word <= token < word with its last letter + 1."""
    return word, word[:-1] + chr(ord(word[-1]) + 1)


def _name_matches(db: Database, words: list[str], limit: int, tolerate_typos: bool) -> pl.DataFrame:
    """Customers whose name has, for every typed word, a word starting with it ("ayse yil" finds
    "Ayşe Yılmaz"), in any order; with `tolerate_typos`, a word of 5+ letters may instead be one
    edit away from a whole word of the name. Whole-name matches rank first, then recent contact.

    The longest word drives the read (it is usually the rarest); the others filter its rows."""
    def word_filter(word: str) -> tuple[str, list]:
        low, high = _prefix_bounds(word)
        if tolerate_typos and len(word) >= TYPO_MIN_LENGTH:
            return ("token IN (SELECT token FROM customer_name_words WHERE damerau_levenshtein(token, ?) <= 1"
                    " OR (token >= ? AND token < ?))", [word, low, high])
        return "token >= ? AND token < ?", [low, high]

    ordered = sorted(words, key=len, reverse=True)
    driving, params = word_filter(ordered[0])
    conditions = [driving]
    for word in ordered[1:]:
        condition, values = word_filter(word)
        conditions.append(f"customer_id IN (SELECT customer_id FROM customer_name_tokens WHERE {condition})")
        params += values
    return db.frame(
        f"""SELECT {SEARCH_COLUMNS} FROM (
                SELECT DISTINCT ON (customer_id) {SEARCH_COLUMNS}, name_key
                FROM customer_name_tokens WHERE {" AND ".join(conditions)})
            ORDER BY (name_key = ?) DESC, last_contact_at DESC NULLS LAST, customer_id
            LIMIT ?""", [*params, " ".join(words), limit])


def customer_profile(db: Database, customer_id: int) -> dict | None:
    """The header an agent reads first: identity, value, consent, open matters."""
    rows = db.frame("SELECT * FROM customer_summary WHERE customer_id = ?", [customer_id])
    return rows.row(0, named=True) if rows.height else None


# One customer's rows, fetched by an indexed equality on customer_id: the agent page derives
# every view from these (crm360.record), so a lookup is a handful of cheap reads.
def load_customer(db: Database, customer_id: int) -> CustomerRecord | None:
    """Everything on record about one customer, or None for an unknown customer number."""
    profile = customer_profile(db, customer_id)
    if profile is None:
        return None
    products, issues = _reference_tables(db)
    interactions = db.frame(
        """SELECT interaction_id, started_at, channel, direction, topic, agent_id, duration_seconds,
                  resolved_on_first_contact, csat, notes
           FROM interactions WHERE customer_id = ?""", [customer_id])
    purchases = db.frame(
        """SELECT order_id, ordered_at, product_id, category, quantity, net_amount_try, sales_channel, status
           FROM purchases WHERE customer_id = ?""", [customer_id]).join(products, on="product_id", how="left")
    complaints = db.frame(
        """SELECT complaint_id, opened_at, channel, category, severity, product_id, first_response_at,
                  resolved_at, status, resolution, satisfaction_after, refund_amount_try, description
           FROM complaints WHERE customer_id = ?""", [customer_id]
    ).join(products, on="product_id", how="left").join(issues, on="product_id", how="left")
    surveys = db.frame(
        "SELECT survey_id, responded_at, touchpoint, nps_score, comment FROM survey_responses WHERE customer_id = ?",
        [customer_id])
    return CustomerRecord(profile, interactions, purchases, complaints, surveys)


_REFERENCE_CACHE: dict[tuple[int, object], tuple[pl.DataFrame, pl.DataFrame]] = {}


def _reference_tables(db: Database) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Product names and each product's latest fixed defect: small tables, read once per
    database version and process."""
    key = (id(db), db.version)
    if key not in _REFERENCE_CACHE:
        products = db.frame("SELECT product_id, name AS product FROM products")
        issues = db.frame(
            """SELECT product_id, arg_max(title, fix_shipped_at) AS issue_title, max(fix_shipped_at) AS fix_shipped_at
               FROM product_issues WHERE fix_shipped_at IS NOT NULL GROUP BY product_id""")
        _REFERENCE_CACHE.clear()
        _REFERENCE_CACHE[key] = (products, issues)
    return _REFERENCE_CACHE[key]
