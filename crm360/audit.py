"""The audit log: every look at customer data and every change a user makes, append-only.

Who (user and role), when, what (the action, the customer numbers involved or the list's size,
the filter or search used). Kept in its own SQLite file beside the published database
(`CRM_AUDIT`, default audit.sqlite), which the ETL never touches; triggers refuse any UPDATE or
DELETE, so an entry once written stays as written. The admin's audit page searches it ("who
looked at customer X this month").
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from crm360 import config
from crm360.sqlite_store import SqliteStore

ACTIONS = ("sign_in", "sign_in_failed", "sign_out", "session_expired", "search", "profile_view", "list_view",
           "export", "campaign_change", "identity_decision", "user_change")
MAX_DETAIL_CHARS = 2_000       # a search typed into the box is kept, but not a 10 MB paste
MAX_CUSTOMERS_PER_ENTRY = 5_000  # a list view names its customers; an export of 200,000 says how many

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    entry_id INTEGER PRIMARY KEY, at TEXT NOT NULL, user_name TEXT NOT NULL, role TEXT NOT NULL,
    action TEXT NOT NULL, page TEXT NOT NULL DEFAULT '', customers INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '{}');
CREATE TABLE IF NOT EXISTS audit_customers (
    entry_id INTEGER NOT NULL REFERENCES audit_log, customer_id INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS audit_customers_customer ON audit_customers (customer_id);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);
CREATE TRIGGER IF NOT EXISTS audit_log_append_only_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_append_only_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_customers_append_only_update BEFORE UPDATE ON audit_customers
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_customers_append_only_delete BEFORE DELETE ON audit_customers
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


def store_path(database: Path | None = None) -> Path:
    """`CRM_AUDIT`, else audit.sqlite beside the published database (or the one given)."""
    beside = database or config.db_path()
    return Path(os.environ.get("CRM_AUDIT", str(beside.with_name("audit.sqlite"))))


@dataclass(frozen=True)
class Entry:
    entry_id: int
    at: datetime
    user_name: str
    role: str
    action: str
    page: str
    customers: int
    detail: dict


class AuditLog(SqliteStore):
    SCHEMA = SCHEMA
    # An entry survives the app crashing (not the machine losing power mid-write), and writing
    # one costs no fsync on the agent's lookup.
    SYNCHRONOUS = "NORMAL"

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(path or store_path())

    def record(self, user_name: str, role: str, action: str, *, page: str = "",
               customer_ids: Iterable[int] = (), customers: int | None = None, at: datetime | None = None,
               **detail: object) -> int:
        """Append one entry; `customers` is how many customers it concerns (default: the ids given,
        which are stored up to MAX_CUSTOMERS_PER_ENTRY so the entry stays searchable by customer)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        ids = list(dict.fromkeys(int(i) for i in customer_ids))
        text = json.dumps(detail, ensure_ascii=False, default=str)
        if len(text) > MAX_DETAIL_CHARS:
            text = json.dumps({"truncated": text[:MAX_DETAIL_CHARS]}, ensure_ascii=False)
        moment = (at or datetime.now()).isoformat(timespec="seconds")
        with self._write() as con:
            entry = con.execute(
                "INSERT INTO audit_log (at, user_name, role, action, page, customers, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (moment, user_name, role, action, page, len(ids) if customers is None else customers, text)).lastrowid
            con.executemany("INSERT INTO audit_customers VALUES (?, ?)",
                            [(entry, customer) for customer in ids[:MAX_CUSTOMERS_PER_ENTRY]])
        return entry

    def search(self, *, customer_id: int | None = None, user_name: str | None = None, action: str | None = None,
               since: datetime | None = None, until: datetime | None = None, limit: int = 500) -> list[Entry]:
        """Entries newest first, narrowed by any of: a customer they concern, a user, an action, a
        time range."""
        conditions, params = [], []
        if customer_id is not None:
            conditions.append("entry_id IN (SELECT entry_id FROM audit_customers WHERE customer_id = ?)")
            params.append(int(customer_id))
        for column, value in (("user_name", user_name), ("action", action)):
            if value:
                conditions.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            conditions.append("at >= ?")
            params.append(since.isoformat(timespec="seconds"))
        if until is not None:
            conditions.append("at <= ?")
            params.append(until.isoformat(timespec="seconds"))
        where = " AND ".join(conditions) or "1 = 1"
        with self._connection() as con:
            rows = con.execute(f"SELECT * FROM audit_log WHERE {where} ORDER BY entry_id DESC LIMIT ?",
                               (*params, limit)).fetchall()
        return [Entry(r[0], datetime.fromisoformat(r[1]), r[2], r[3], r[4], r[5], r[6], json.loads(r[7]))
                for r in rows]

    def customers_of(self, entry_id: int) -> list[int]:
        with self._connection() as con:
            return [r[0] for r in con.execute("SELECT customer_id FROM audit_customers WHERE entry_id = ? "
                                              "ORDER BY rowid", (entry_id,)).fetchall()]
