"""Queries behind the customer lookup page: find a customer, and fetch everything on record about
them in a few indexed reads (the page derives its views from those rows, see crm360.record)."""
from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from decimal import Decimal

import polars as pl

from crm360 import desk, desk_view
from crm360.audit import AuditLog
from crm360.queries import desk_consent, name_index
from crm360.queries.name_index import TypedWord
from crm360.record import CustomerRecord
from crm360.store import Database, Snapshot
from crm360.textnorm import fold_text, normalize_email, normalize_phone

MAX_QUERY_LENGTH = 200
# Customer numbers are the company's own (CDNOW's run from 1); digits too few for a phone number
# (10 with the area code) are a customer number.
_CUSTOMER_NUMBER = re.compile(r"^\d{1,9}$")


@dataclass(frozen=True)
class SearchResult:
    """Ranked matches, how the input was understood, and a message for the agent."""

    kind: str            # customer_number | phone | email | name | invalid
    matches: pl.DataFrame  # the best `limit` matches, ranked
    message: str = ""
    total: int = 0       # how many customers match in all
    note: str = ""       # something the agent should know about the match (a merged number)
    guessed: bool = False  # found only by tolerating a typo: a guess, never opened unasked

    @classmethod
    def of(cls, kind: str, matches: pl.DataFrame, total: int | None = None, guessed: bool = False) -> SearchResult:
        return cls(kind, matches, total=matches.height if total is None else total, guessed=guessed)

    @property
    def to_open(self) -> int | None:
        """The customer to open at once: the one match of a customer number, a phone with one
        holder, an e-mail or a name, unless it was a typo's guess. With several plausible matches,
        None: the agent picks (opening the top hit would show, and audit as viewed, a stranger)."""
        if self.total != 1 or self.guessed or self.matches.is_empty():
            return None
        return int(self.matches["customer_id"][0])


# What a result row shows to tell namesakes apart; every column read costs, so no more.
SEARCH_COLUMNS = "customer_id, full_name, city, birth_date, phone, last_contact_at"


def search_customers(db: Database, text: str | None, limit: int = 10) -> SearchResult:
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
    with db.snapshot() as snap:
        if _CUSTOMER_NUMBER.match(query):
            found = _fetch(snap, "customer_number", "customer_id", int(query), limit)
            merge = None if found.total else _merged_into(snap, int(query))
            if merge is None:
                return found
            survivor = _fetch(snap, "customer_number", "customer_id", merge[0], limit)
            return replace(survivor, note=merge_note(int(query), *merge))
        if "@" in query:
            email = normalize_email(query)
            if email is None:
                return SearchResult("invalid", _empty(), f"“{query}” is not a complete e-mail address.")
            return _fetch(snap, "email", "email", email, limit)
        if re.fullmatch(r"[\d\s()+.\-/]+", query):
            phone = normalize_phone(query)
            if phone is None:
                return SearchResult("invalid", _empty(),
                                    f"“{query}” is neither a customer number (up to 9 digits) nor a phone number.")
            return _fetch(snap, "phone", "phone", phone, limit)
        return _search_name(snap, query, limit)


def _empty() -> pl.DataFrame:
    return pl.DataFrame()


def _fetch(snap: Snapshot, kind: str, key: str, value: object, limit: int) -> SearchResult:
    # A bare indexed equality, ranked here: with ORDER BY ... LIMIT in the SQL, DuckDB plans a
    # late-materialising top-N that scans the whole table instead of probing the index.
    matches = snap.frame(f"SELECT {SEARCH_COLUMNS} FROM customer_summary WHERE {key} = ?", [value])
    ranked = matches.sort(["last_contact_at", "customer_id"], descending=[True, False], nulls_last=True)
    return SearchResult.of(kind, ranked.head(limit), total=matches.height)


TYPO_MIN_LENGTH = 5  # one typo is tolerated in words this long; shorter words match too much


def _search_name(snap: Snapshot, query: str, limit: int) -> SearchResult:
    """Customers whose name has, for every typed word, a word starting with it ("ayse yil" finds
    "Ayşe Yılmaz"), in any order; if none, a word of 5+ letters may instead be one typo away from
    a whole word of the name. Whole-name matches rank first, then the most recently contacted."""
    words = list(dict.fromkeys(w for w in re.split(r"[^\w]+", fold_text(query)) if w))[:6]
    if not words:
        return SearchResult.of("name", _empty())
    index = snap.memo("name_index", lambda: name_index.build(snap))
    ids, total = index.find([TypedWord(w) for w in words], limit)
    guessed = False
    if not ids and any(len(w) >= TYPO_MIN_LENGTH for w in words):
        ids, total = index.find([TypedWord(w, _one_typo_away(snap, w)) for w in words], limit)
        guessed = True
    if not ids:
        return SearchResult.of("name", _empty())
    rows = snap.frame(f"SELECT {SEARCH_COLUMNS} FROM customer_summary WHERE customer_id = ANY(?)", [ids])
    ranking = pl.DataFrame({"customer_id": ids, "rank": range(len(ids))}, schema_overrides={"customer_id": pl.Int64})
    return SearchResult.of("name", rows.join(ranking, on="customer_id").sort("rank").drop("rank"), total, guessed)


def _one_typo_away(snap: Snapshot, word: str) -> tuple[str, ...]:
    """Whole name words one edit (Damerau-Levenshtein) from a typed word of 5+ letters."""
    if len(word) < TYPO_MIN_LENGTH:
        return ()
    return tuple(snap.frame("SELECT token FROM customer_name_words WHERE damerau_levenshtein(token, ?) <= 1",
                            [word])["token"].to_list())


def namesake_table(matches: pl.DataFrame) -> pl.DataFrame:
    """What tells namesakes apart without opening anyone: city, birth year, the phone's last four
    digits (enough to ask "does your number end in 4567?" without reading it out), last contact."""
    if matches.is_empty():
        return pl.DataFrame(schema={"customer_id": pl.Int64, "full_name": pl.String, "city": pl.String,
                                    "born": pl.Int32, "phone_ends": pl.String, "last_contact_at": pl.Datetime("us")})
    return matches.select(
        "customer_id", "full_name", pl.col("city").fill_null("—"),
        pl.col("birth_date").dt.year().alias("born"),
        pl.when(pl.col("phone").is_not_null()).then(pl.lit("…") + pl.col("phone").str.slice(-4))
        .otherwise(pl.lit("—")).alias("phone_ends"),
        "last_contact_at")


def match_label(row: dict) -> str:
    """One match on one line, for the picker: the same facts as the namesake table."""
    last = row["last_contact_at"]
    return " · ".join([f"{row['full_name']} #{row['customer_id']}", row["city"] or "—",
                       f"born {row['born']}" if row["born"] else "born —",
                       f"phone {row['phone_ends']}",
                       f"last contact {last:%d.%m.%Y}" if last else "no contact yet"])


def recently_opened(log: AuditLog, user_name: str, count: int = 8) -> list[int]:
    """The customers this user opened last, newest first, each once: read from the audit log's
    profile views, so the list survives a refresh and a new tab (the session does not)."""
    entries = log.search(user_name=user_name, action="profile_view", limit=count * 5)
    firsts = log.first_customers([e.entry_id for e in entries], per_entry=1)
    ordered = [firsts[e.entry_id][0] for e in entries if firsts.get(e.entry_id)]
    return list(dict.fromkeys(ordered))[:count]


def names_of(db: Database, customer_ids: list[int]) -> dict[int, str]:
    """Customer number -> name, for links to customers known by number (recently opened)."""
    if not customer_ids:
        return {}
    frame = db.frame("SELECT customer_id, full_name FROM customer_summary WHERE customer_id = ANY(?)",
                     [customer_ids])
    return dict(zip(frame["customer_id"].to_list(), frame["full_name"].to_list(), strict=True))


def merged_into(db: Database, customer_id: int) -> tuple[int, str] | None:
    """The customer a merged customer number now belongs to, and why (etl/identity.py)."""
    with db.snapshot() as snap:
        return _merged_into(snap, customer_id)


def _merged_into(snap: Snapshot, customer_id: int) -> tuple[int, str] | None:
    snap.cursor.execute("SELECT survivor_id, rule FROM customer_merges WHERE merged_id = ?", [customer_id])
    row = snap.cursor.fetchone()
    return (row[0], row[1]) if row else None


def merge_note(merged: int, survivor: int, rule: str) -> str:
    return f"Customer #{merged} was merged into #{survivor} ({rule}); showing #{survivor}."


def customer_profile(db: Database, customer_id: int) -> dict | None:
    """The header an agent reads first: identity, value, consent, open matters."""
    with db.snapshot() as snap:
        return _profile(snap, customer_id)


# What the customer page reads of the summary: each column read costs (customer_summary has ~50).
PAGE_PROFILE_COLUMNS = """
    customer_id, full_name, city, birth_date, phone, email, signup_date, preferred_channel, language, consent_email,
    consent_sms, consent_phone, iys_refused, do_not_contact, orders, net_revenue_try, average_order_value_try,
    last_purchase_at, last_contact_at, open_complaints, value_top_share, usual_days_between_orders,
    rfm_segment, loyalty_tier, p_alive, expected_purchases_12m, predicted_clv_12m, churn_risk,
    churn_risk_band, churn_risk_reasons
"""


def _profile(snap: Snapshot, customer_id: int, columns: str = "*") -> dict | None:
    snap.cursor.execute(f"SELECT {columns} FROM customer_summary WHERE customer_id = ?", [customer_id])
    row = snap.cursor.fetchone()
    if row is None:
        return None
    # Money is DECIMAL in the tables (Python Decimal) and a float everywhere on the page.
    return {name: float(value) if isinstance(value, Decimal) else value
            for (name, *_), value in zip(snap.cursor.description, row, strict=True)}


# One customer's rows, fetched by an indexed equality on customer_id: the agent page derives
# every view from these (crm360.record), so a lookup is a handful of cheap reads, all from one
# version of the database. The fact tables are read on the pool's threads while this thread
# reads the profile.
_FACT_READS = {
    "interactions": """SELECT interaction_id, started_at, channel, direction, topic, agent_id, duration_seconds,
                              resolved_on_first_contact, csat, notes
                       FROM interactions WHERE customer_id = ?""",
    "purchases": """SELECT order_id, ordered_at, product_id, category, quantity, net_amount_try, sales_channel, status
                    FROM purchases WHERE customer_id = ?""",
    "complaints": """SELECT complaint_id, opened_at, channel, category, severity, product_id, first_response_at,
                            resolved_at, status, resolution, satisfaction_after, refund_amount_try, description
                     FROM complaints WHERE customer_id = ?""",
    "surveys": """SELECT survey_id, responded_at, touchpoint, nps_score, comment
                  FROM survey_responses WHERE customer_id = ?""",
}
# One reader per core, up to one per fact table: more threads only contend for the cores and the GIL.
_READERS = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 2), thread_name_prefix="customer-read")


def load_customer(db: Database, customer_id: int) -> CustomerRecord | None:
    """Everything on record about one customer, or None for an unknown customer number."""
    with db.snapshot() as snap:
        reads = {name: snap.frame_in_parallel(_READERS, sql, [customer_id]) for name, sql in _FACT_READS.items()}
        profile = _profile(snap, customer_id, PAGE_PROFILE_COLUMNS)
        products = snap.memo("products", lambda: _products(snap))
        rows = {name: read.result() for name, read in reads.items()}
        desk_through = desk_consent.loaded_through(snap) if profile is not None else 0
        desk_file = desk.store_path_beside(snap.version)
    if profile is None:
        return None
    record = CustomerRecord(profile, rows["interactions"], _with_product(rows["purchases"], products.select(
        "product_id", "product")), _with_product(rows["complaints"], products), rows["surveys"])
    if not desk_file.exists():  # no agent has written anything yet
        return record
    # What agents wrote since the load shows at once (crm360/desk_view.py).
    return desk_view.overlay(record, desk.shared_store(desk_file).customer_desk(customer_id), desk_through,
                             products)


def _with_product(rows: pl.DataFrame, products: pl.DataFrame) -> pl.DataFrame:
    """The rows with their product's columns; most customers have no complaint, and a join of
    nothing still plans a query, so empty rows just get the empty columns."""
    if rows.is_empty():
        return rows.hstack(products.clear().drop("product_id").get_columns())
    return rows.join(products, on="product_id", how="left")


def _products(snap: Snapshot) -> pl.DataFrame:
    """Each product's name and its latest fixed defect, if any."""
    return snap.frame(
        """SELECT p.product_id, p.name AS product, i.issue_title, i.fix_shipped_at
           FROM products p LEFT JOIN (
               SELECT product_id, arg_max(title, fix_shipped_at) AS issue_title,
                      max(fix_shipped_at) AS fix_shipped_at
               FROM product_issues WHERE fix_shipped_at IS NOT NULL GROUP BY product_id) i USING (product_id)""")


LOOKUP_TABLES = ("customer_summary", "interactions", "purchases", "complaints", "survey_responses")


def warm_up(snap: Snapshot) -> None:
    """Read the tables a lookup touches into DuckDB's buffer pool (under a second for a million
    customers) and build the name index, so that the first lookups after a publish are as fast
    as the rest."""
    for table in LOOKUP_TABLES:
        snap.cursor.execute(f"SELECT bit_xor(hash(COLUMNS(*))) FROM {table}").fetchall()
    snap.memo("name_index", lambda: name_index.build(snap))
    snap.memo("products", lambda: _products(snap))
