"""The agent desk: what an agent writes back at the end of a call (the call log with an optional
follow-up task, complaints opened or updated, consent changes and do-not-contact requests).

Written by the app all day, so it lives in its own SQLite file beside the published database
(like campaigns), never in a database the ETL replaces. Every write is one short transaction that
takes the write lock at its start (BEGIN IMMEDIATE) and appends its row(s) to the change log in the
same transaction: the log's cursor then orders changes exactly as they were committed, and a
refused write leaves neither a record nor a log row behind.

The next ETL run reads the store as one more source (etl/desk_source.py); until then the customer
page (crm360/desk_view.py) and every marketing list (crm360/queries/desk_consent.py) overlay what
the ETL has not read yet, so a write shows at once.
"""
from __future__ import annotations

import json
import math
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from crm360 import clock, config
from crm360.sqlite_store import SqliteStore

if TYPE_CHECKING:
    from crm360.store import Database

CALL_OUTCOMES = ("resolved_first_contact", "follow_up_needed", "escalated")
# The topics the call-centre system files contacts under (interactions.topic; seed/reference.py):
# a desk call is filed the same way, so trends count it with the rest.
CALL_REASONS = ("order_status", "delivery", "return_request", "billing", "product_info", "technical_support",
                "account", "campaign", "complaint", "complaint_followup")
CONSENT_CHANNELS = ("email", "sms", "phone")
SOURCE = "agent call"
# A note is what an agent types after a call: a few paragraphs. Far below the ETL's 20,000-character
# limit on loaded text, so a desk row is never rejected by the load that reads it.
MAX_NOTE_CHARS = 4_000
MAX_NAME_CHARS = 200
# Desk complaints and calls are numbered from here, far above any number the company's systems
# hand out (the seed's run below 10^11), so a desk row never takes a loaded row's number.
DESK_ID_BASE = 9_000_000_000_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    call_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, agent TEXT NOT NULL, reason TEXT NOT NULL,
    outcome TEXT NOT NULL, note TEXT NOT NULL, channel TEXT NOT NULL, called_at TEXT NOT NULL,
    task_id INTEGER, cursor INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS calls_customer ON calls (customer_id);
CREATE TABLE IF NOT EXISTS tasks (
    task_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, call_id INTEGER, due_at TEXT NOT NULL,
    owner TEXT NOT NULL, note TEXT NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL,
    done_at TEXT, done_by TEXT, cursor INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS tasks_customer ON tasks (customer_id);
CREATE INDEX IF NOT EXISTS tasks_open_due ON tasks (owner, due_at) WHERE done_at IS NULL;
-- Every complaint the desk knows: those opened here (origin 'desk', every field) and loaded ones an
-- agent updated (origin 'loaded': only what the desk changed). `version` counts saves, for the
-- optimistic check that stops one agent's save from silently overwriting another's.
CREATE TABLE IF NOT EXISTS complaints (
    complaint_id INTEGER PRIMARY KEY, origin TEXT NOT NULL, customer_id INTEGER NOT NULL, agent TEXT NOT NULL,
    channel TEXT, category TEXT, severity TEXT, product_id INTEGER, description TEXT, opened_at TEXT,
    first_response_at TEXT, resolved_at TEXT, resolution TEXT, refund_try REAL,
    version INTEGER NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL, cursor INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS complaints_customer ON complaints (customer_id);
CREATE TABLE IF NOT EXISTS consent_changes (
    change_id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, agent TEXT NOT NULL, channel TEXT,
    given INTEGER, do_not_contact INTEGER NOT NULL, recorded_at TEXT NOT NULL, source TEXT NOT NULL,
    cursor INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS consent_customer ON consent_changes (customer_id);
CREATE INDEX IF NOT EXISTS consent_cursor ON consent_changes (cursor);
-- The hand-off log: one row per write, in commit order. AUTOINCREMENT: a cursor is never reused.
CREATE TABLE IF NOT EXISTS changes (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT, changed_at TEXT NOT NULL, kind TEXT NOT NULL,
    customer_id INTEGER NOT NULL, agent TEXT NOT NULL, record_id INTEGER NOT NULL, data TEXT NOT NULL);
"""


def store_path() -> Path:
    """`CRM_DESK`, else desk.sqlite beside the published database."""
    return store_path_beside(config.db_path())


def store_path_beside(published: Path) -> Path:
    """`CRM_DESK`, else desk.sqlite beside the given published database."""
    return Path(os.environ.get("CRM_DESK", str(Path(published).with_name("desk.sqlite"))))


_SHARED: dict[Path, DeskStore] = {}


def shared_store(path: Path) -> DeskStore:
    """One store object per file and process (opening one runs its schema script): the pages'
    writes and the lists' consent reads use the same."""
    if path not in _SHARED:
        _SHARED[path] = DeskStore(path)
    return _SHARED[path]


def latest_write(path: Path) -> datetime | None:
    """When an agent last wrote to the desk at `path` (None without a store or a write). Read
    without creating the store: a page that only looks must not make one."""
    if not path.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)) as con:
            row = con.execute("SELECT changed_at FROM changes ORDER BY cursor DESC LIMIT 1").fetchone()
    except sqlite3.Error:  # a store being created, or not one: the loaded data's now stands
        return None
    return datetime.fromisoformat(row[0]) if row else None


class DeskError(ValueError):
    """A desk write refused, with the reason for the agent. Nothing of it was saved."""


@dataclass(frozen=True)
class FollowUp:
    due_at: datetime
    owner: str
    note: str = ""


@dataclass(frozen=True)
class DeskRecord:
    """One customer's desk writes, oldest first."""
    calls: pl.DataFrame
    complaints: pl.DataFrame
    tasks: pl.DataFrame
    consent: pl.DataFrame

    @property
    def empty(self) -> bool:
        return not (self.calls.height or self.complaints.height or self.tasks.height or self.consent.height)


CALL_SCHEMA = {"call_id": pl.Int64, "customer_id": pl.Int64, "agent": pl.String, "reason": pl.String,
               "outcome": pl.String, "note": pl.String, "channel": pl.String, "called_at": pl.Datetime("us"),
               "task_id": pl.Int64, "cursor": pl.Int64}
TASK_SCHEMA = {"task_id": pl.Int64, "customer_id": pl.Int64, "call_id": pl.Int64, "due_at": pl.Datetime("us"),
               "owner": pl.String, "note": pl.String, "created_by": pl.String, "created_at": pl.Datetime("us"),
               "done_at": pl.Datetime("us"), "done_by": pl.String, "cursor": pl.Int64}
COMPLAINT_SCHEMA = {"complaint_id": pl.Int64, "origin": pl.String, "customer_id": pl.Int64, "agent": pl.String,
                    "channel": pl.String, "category": pl.String, "severity": pl.String, "product_id": pl.Int64,
                    "description": pl.String, "opened_at": pl.Datetime("us"),
                    "first_response_at": pl.Datetime("us"), "resolved_at": pl.Datetime("us"),
                    "resolution": pl.String, "refund_try": pl.Float64, "version": pl.Int64,
                    "updated_at": pl.Datetime("us"), "updated_by": pl.String, "cursor": pl.Int64}
CONSENT_SCHEMA = {"change_id": pl.Int64, "customer_id": pl.Int64, "agent": pl.String, "channel": pl.String,
                  "given": pl.Boolean, "do_not_contact": pl.Boolean, "recorded_at": pl.Datetime("us"),
                  "source": pl.String, "cursor": pl.Int64}
_MOMENTS = {name for schema in (CALL_SCHEMA, TASK_SCHEMA, COMPLAINT_SCHEMA, CONSENT_SCHEMA)
            for name, kind in schema.items() if kind == pl.Datetime("us")}
_FLAGS = {"given", "do_not_contact"}


def _stamp(moment: datetime | None) -> str:
    return (moment or clock.wall()).replace(microsecond=0).isoformat(sep=" ")


def _text(label: str, value: str | None, *, required: bool = True, limit: int = MAX_NOTE_CHARS) -> str:
    text = (value or "").strip()
    if required and not text:
        raise DeskError(f"The {label} is empty: write what it is.")
    if len(text) > limit:
        raise DeskError(f"The {label} is {len(text):,} characters; {limit:,} at most. Shorten it and save again.")
    return text


def _choice(label: str, value: str | None, allowed: tuple[str, ...]) -> str:
    if not value or not str(value).strip():
        raise DeskError(f"Choose the {label} ({', '.join(allowed)}).")
    if value not in allowed:
        raise DeskError(f"“{str(value)[:80]}” is not a {label} ({', '.join(allowed)}).")
    return value


def _customer(customer_id: object) -> int:
    if isinstance(customer_id, bool) or not isinstance(customer_id, int) or customer_id <= 0:
        raise DeskError(f"“{str(customer_id)[:40]}” is not a customer number.")
    return customer_id


def _frame(rows: list[tuple], schema: dict) -> pl.DataFrame:
    """Rows as read from SQLite (text moments, 0/1 flags) as a typed frame."""
    names = list(schema)
    converted = [tuple((datetime.fromisoformat(v) if v is not None and n in _MOMENTS else
                        bool(v) if v is not None and n in _FLAGS else v) for n, v in zip(names, row, strict=True))
                 for row in rows]
    return pl.DataFrame(converted, schema=schema, orient="row")


class DeskStore(SqliteStore):
    SCHEMA = SCHEMA
    # WAL without an fsync per commit: a write holds the lock for microseconds instead of a disk
    # flush, so 20 agents saving at once do not queue behind each other's flushes (bench/desk.py:
    # with FULL, p95 165 ms and a 4 s worst case). An app crash loses nothing; a power cut may lose
    # the last moments' saves.
    SYNCHRONOUS = "NORMAL"

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(path or store_path())

    # -- writes -------------------------------------------------------------------------------

    @staticmethod
    def _log(con: sqlite3.Connection, kind: str, customer_id: int, agent: str, record_id: int, data: dict,
             stamp: str) -> int:
        return int(con.execute(
            "INSERT INTO changes (changed_at, kind, customer_id, agent, record_id, data) VALUES (?, ?, ?, ?, ?, ?)",
            (stamp, kind, customer_id, agent, record_id, json.dumps(data, ensure_ascii=False, sort_keys=True)),
        ).lastrowid)

    @staticmethod
    def _next_id(con: sqlite3.Connection, table: str, column: str) -> int:
        # Only the desk's own range counts: the complaints table also keeps updates of loaded
        # complaints under their loaded numbers, which must never seed the desk's next number.
        return int(con.execute(f"SELECT coalesce(max({column}), ?) + 1 FROM {table} WHERE {column} > ?",
                               (DESK_ID_BASE, DESK_ID_BASE)).fetchone()[0])

    def log_call(self, customer_id: int, agent: str, reason: str, outcome: str, note: str, *,
                 channel: str = "phone", follow_up: FollowUp | None = None, now: datetime | None = None) -> int:
        """Save a call (and its follow-up task, if any) in one transaction; the call's number."""
        customer_id = _customer(customer_id)
        agent = _text("agent's name", agent, limit=MAX_NAME_CHARS)
        reason = _choice("call reason", reason, CALL_REASONS)
        outcome = _choice("call outcome", outcome, CALL_OUTCOMES)
        note = _text("note", note, required=False)
        channel = _choice("channel", channel, config.CHANNELS)
        moment = now or clock.wall()
        stamp = _stamp(moment)
        task = None
        if follow_up is not None:
            task = (_stamp(self._due(follow_up.due_at, moment)), _text("follow-up owner", follow_up.owner,
                                                                        limit=MAX_NAME_CHARS),
                    _text("follow-up note", follow_up.note, required=False))
        with self._write() as con:
            call_id = self._next_id(con, "calls", "call_id")
            data = {"call_id": call_id, "customer_id": customer_id, "agent": agent, "reason": reason,
                    "outcome": outcome, "note": note, "channel": channel, "called_at": stamp}
            cursor = self._log(con, "call_logged", customer_id, agent, call_id, data, stamp)
            con.execute("""INSERT INTO calls (call_id, customer_id, agent, reason, outcome, note, channel, called_at,
                                              cursor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                        (call_id, customer_id, agent, reason, outcome, note, channel, stamp, cursor))
            if task is not None:
                task_id = self._insert_task(con, customer_id, call_id, *task, agent, stamp)
                con.execute("UPDATE calls SET task_id = ? WHERE call_id = ?", (task_id, call_id))
        return call_id

    @staticmethod
    def _due(due_at: datetime, now: datetime) -> datetime:
        if not isinstance(due_at, datetime):
            raise DeskError("A follow-up needs a due date and time.")
        if due_at <= now:
            raise DeskError(f"The follow-up is due {due_at:%d.%m.%Y %H:%M}, which has passed; choose a later time.")
        return due_at

    def add_task(self, customer_id: int, agent: str, follow_up: FollowUp, *, now: datetime | None = None) -> int:
        """A follow-up task not tied to a call; its number."""
        customer_id = _customer(customer_id)
        agent = _text("agent's name", agent, limit=MAX_NAME_CHARS)
        moment = now or clock.wall()
        due = _stamp(self._due(follow_up.due_at, moment))
        owner = _text("follow-up owner", follow_up.owner, limit=MAX_NAME_CHARS)
        note = _text("follow-up note", follow_up.note, required=False)
        with self._write() as con:
            return self._insert_task(con, customer_id, None, due, owner, note, agent, _stamp(moment))

    def _insert_task(self, con: sqlite3.Connection, customer_id: int, call_id: int | None, due: str, owner: str,
                     note: str, agent: str, stamp: str) -> int:
        task_id = int(con.execute("SELECT coalesce(max(task_id), 0) + 1 FROM tasks").fetchone()[0])
        data = {"task_id": task_id, "customer_id": customer_id, "call_id": call_id, "due_at": due, "owner": owner,
                "note": note, "created_by": agent, "created_at": stamp}
        cursor = self._log(con, "task_created", customer_id, agent, task_id, data, stamp)
        con.execute("""INSERT INTO tasks (task_id, customer_id, call_id, due_at, owner, note, created_by, created_at,
                                          cursor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (task_id, customer_id, call_id, due, owner, note, agent, stamp, cursor))
        return task_id

    def complete_task(self, task_id: int, agent: str, now: datetime | None = None) -> None:
        agent = _text("agent's name", agent, limit=MAX_NAME_CHARS)
        stamp = _stamp(now)
        with self._write() as con:
            found = con.execute("SELECT customer_id, done_at, done_by FROM tasks WHERE task_id = ?",
                                (task_id,)).fetchone()
            if found is None:
                raise DeskError(f"There is no follow-up task #{task_id}.")
            if found[1] is not None:
                raise DeskError(f"Task #{task_id} was already done ({found[2]}, {found[1]}).")
            cursor = self._log(con, "task_done", found[0], agent, task_id,
                               {"task_id": task_id, "done_at": stamp, "done_by": agent}, stamp)
            con.execute("UPDATE tasks SET done_at = ?, done_by = ?, cursor = ? WHERE task_id = ?",
                        (stamp, agent, cursor, task_id))

    def open_complaint(self, customer_id: int, agent: str, category: str, severity: str, product_id: int | None,
                       description: str, *, channel: str = "phone", now: datetime | None = None) -> int:
        """A new complaint; its 24-hour clock starts at `now`. Its number (from DESK_ID_BASE up)."""
        customer_id = _customer(customer_id)
        agent = _text("agent's name", agent, limit=MAX_NAME_CHARS)
        category = _choice("complaint category", category, config.COMPLAINT_CATEGORIES)
        severity = _choice("severity", severity, config.COMPLAINT_SEVERITIES)
        description = _text("description", description)
        channel = _choice("channel", channel, config.CHANNELS)
        if product_id is not None and (isinstance(product_id, bool) or not isinstance(product_id, int)):
            raise DeskError(f"“{str(product_id)[:40]}” is not a product number.")
        stamp = _stamp(now)
        with self._write() as con:
            complaint_id = self._next_id(con, "complaints", "complaint_id")
            data = {"complaint_id": complaint_id, "customer_id": customer_id, "agent": agent, "channel": channel,
                    "category": category, "severity": severity, "product_id": product_id,
                    "description": description, "opened_at": stamp, "status": "open"}
            cursor = self._log(con, "complaint_opened", customer_id, agent, complaint_id, data, stamp)
            con.execute("""INSERT INTO complaints (complaint_id, origin, customer_id, agent, channel, category,
                                                   severity, product_id, description, opened_at, version,
                                                   updated_at, updated_by, cursor)
                           VALUES (?, 'desk', ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)""",
                        (complaint_id, customer_id, agent, channel, category, severity, product_id, description, stamp,
                         stamp, agent, cursor))
        return complaint_id

    def complaint_version(self, complaint_id: int) -> int:
        """The version an editing agent starts from: 0 for a loaded complaint the desk never changed."""
        with self._connection() as con:
            found = con.execute("SELECT version FROM complaints WHERE complaint_id = ?", (complaint_id,)).fetchone()
        return int(found[0]) if found else 0

    def update_complaint(self, complaint_id: int, agent: str, *, answered: bool = False,
                         resolution: str | None = None, refund_try: float | None = None,
                         expected_version: int | None = None, customer_id: int | None = None,
                         now: datetime | None = None) -> int:
        """Record an answer, a resolution (with its text) and/or a refund on a complaint, the desk's
        own or a loaded one (then `customer_id` says whose it is). With `expected_version` (the
        version the agent's form was drawn from, see `complaint_version`), a save made after
        someone else's is refused rather than overwriting it. Returns the new version."""
        agent = _text("agent's name", agent, limit=MAX_NAME_CHARS)
        resolution_text = _text("resolution", resolution) if resolution is not None else None
        refund = self._refund(refund_try)
        if not answered and resolution_text is None and refund is None:
            raise DeskError("Nothing to save: mark it answered, resolve it or enter a refund.")
        stamp = _stamp(now)
        with self._write() as con:
            found = con.execute(
                """SELECT customer_id, version, updated_by, updated_at, first_response_at, resolved_at, opened_at,
                          resolution
                   FROM complaints WHERE complaint_id = ?""", (complaint_id,)).fetchone()
            if found is None:
                if complaint_id > DESK_ID_BASE:
                    raise DeskError(f"There is no complaint #{complaint_id}.")
                if customer_id is None:
                    raise DeskError(f"Complaint #{complaint_id} is not the desk's own: say whose it is.")
                owner, version, first_response, resolved, opened = _customer(customer_id), 0, None, None, None
                earlier = None
            else:
                owner, version, first_response, resolved, opened = found[0], found[1], found[4], found[5], found[6]
                earlier = found[7]
                if customer_id is not None and customer_id != owner:
                    raise DeskError(f"Complaint #{complaint_id} is customer #{owner}'s, not #{customer_id}'s.")
            if expected_version is not None and expected_version != version:
                by = f" by {found[2]} at {found[3]}" if found is not None else ""
                raise DeskError(f"Complaint #{complaint_id} was changed{by} while you had it open. Nothing of yours "
                                "was saved: reload it to see their change, then save yours again.")
            if opened is not None and stamp < opened:
                raise DeskError(f"Complaint #{complaint_id} was opened at {opened}, after {stamp}.")
            first_response = first_response or (stamp if answered or resolution_text is not None else None)
            if resolution_text is not None:
                # A second resolution adds to the first, which stays with its time: nobody's account
                # of what was done for the customer is overwritten.
                resolved = resolved or stamp
                if earlier:
                    resolution_text = f"{earlier}\n{agent}, {stamp}: {resolution_text}"
            data = {"complaint_id": complaint_id, "answered": bool(answered), "first_response_at": first_response,
                    "resolution": resolution_text, "resolved_at": resolved if resolution_text is not None else None,
                    "refund_try": refund, "version": version + 1}
            cursor = self._log(con, "complaint_updated", owner, agent, complaint_id, data, stamp)
            if found is None:
                con.execute("""INSERT INTO complaints (complaint_id, origin, customer_id, agent, first_response_at,
                                                       resolved_at, resolution, refund_try, version, updated_at,
                                                       updated_by, cursor)
                               VALUES (?, 'loaded', ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)""",
                            (complaint_id, owner, agent, first_response, resolved, resolution_text, refund, stamp,
                             agent, cursor))
            else:
                con.execute("""UPDATE complaints SET first_response_at = ?, resolved_at = ?,
                                   resolution = coalesce(?, resolution), refund_try = coalesce(?, refund_try),
                                   version = version + 1, updated_at = ?, updated_by = ?, cursor = ?
                               WHERE complaint_id = ?""",
                            (first_response, resolved, resolution_text, refund, stamp, agent, cursor, complaint_id))
        return version + 1

    @staticmethod
    def _refund(refund_try: float | None) -> float | None:
        if refund_try is None:
            return None
        if isinstance(refund_try, bool) or not isinstance(refund_try, int | float) or not math.isfinite(refund_try):
            raise DeskError(f"“{str(refund_try)[:40]}” is not an amount of money.")
        if refund_try < 0:
            raise DeskError("A refund is an amount paid back: it cannot be negative.")
        return round(float(refund_try), 2)

    def record_consent(self, customer_id: int, agent: str, channel: str | None, given: bool, *,
                       do_not_contact: bool = False, now: datetime | None = None) -> int:
        """What the customer asked: consent given or withdrawn on a channel, and/or do not contact
        them at all (channel None). Source: "agent call". The change's number."""
        customer_id = _customer(customer_id)
        agent = _text("agent's name", agent, limit=MAX_NAME_CHARS)
        if channel is not None:
            _choice("consent channel", channel, CONSENT_CHANNELS)
        elif not do_not_contact:
            raise DeskError("Choose the channel the customer gave or withdrew consent for, or do-not-contact.")
        stamp = _stamp(now)
        given_flag = None if channel is None else int(bool(given))
        with self._write() as con:
            change_id = int(con.execute("SELECT coalesce(max(change_id), 0) + 1 FROM consent_changes").fetchone()[0])
            data = {"change_id": change_id, "customer_id": customer_id, "channel": channel,
                    "given": None if given_flag is None else bool(given_flag), "do_not_contact": bool(do_not_contact),
                    "recorded_at": stamp, "source": SOURCE}
            cursor = self._log(con, "consent_recorded", customer_id, agent, change_id, data, stamp)
            con.execute("""INSERT INTO consent_changes (change_id, customer_id, agent, channel, given, do_not_contact,
                                                        recorded_at, source, cursor)
                           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                        (change_id, customer_id, agent, channel, given_flag, int(bool(do_not_contact)), stamp, SOURCE,
                         cursor))
        return change_id

    # -- reads --------------------------------------------------------------------------------

    def customer_desk(self, customer_id: int) -> DeskRecord:
        """One customer's desk writes (indexed reads)."""
        with self._connection() as con:
            def rows(table: str, schema: dict, order: str) -> pl.DataFrame:
                return _frame(con.execute(f"SELECT {', '.join(schema)} FROM {table} WHERE customer_id = ? "
                                          f"ORDER BY {order}", (customer_id,)).fetchall(), schema)
            return DeskRecord(rows("calls", CALL_SCHEMA, "call_id"),
                              rows("complaints", COMPLAINT_SCHEMA, "complaint_id"),
                              rows("tasks", TASK_SCHEMA, "task_id"),
                              rows("consent_changes", CONSENT_SCHEMA, "change_id"))

    def tasks(self, owner: str | None = None, due_before: datetime | None = None,
              open_only: bool = True) -> pl.DataFrame:
        """Follow-up tasks, earliest due first: one owner's ("My follow-ups") or everyone's."""
        conditions, params = [], []
        if owner is not None:
            conditions.append("owner = ?")
            params.append(owner)
        if due_before is not None:
            conditions.append("due_at < ?")
            params.append(_stamp(due_before))
        if open_only:
            conditions.append("done_at IS NULL")
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        with self._connection() as con:
            return _frame(con.execute(f"SELECT {', '.join(TASK_SCHEMA)} FROM tasks {where} ORDER BY due_at, task_id",
                                      params).fetchall(), TASK_SCHEMA).drop("done_by", "cursor")

    def changes(self, since: int = 0, limit: int | None = None) -> tuple[list[dict], int]:
        """Every change after cursor `since`, in commit order, and the cursor to ask from next."""
        if isinstance(since, bool) or not isinstance(since, int) or since < 0:
            raise DeskError(f"“{since}” is not a cursor: a whole number from 0 up.")
        with self._connection() as con:
            found = con.execute(
                "SELECT cursor, changed_at, kind, customer_id, agent, record_id, data FROM changes WHERE cursor > ? "
                "ORDER BY cursor LIMIT ?", (since, -1 if limit is None else limit)).fetchall()
        rows = [{"cursor": c, "changed_at": at, "kind": kind, "customer_id": customer, "agent": agent,
                 "record_id": record, "data": json.loads(data)} for c, at, kind, customer, agent, record, data in found]
        return rows, rows[-1]["cursor"] if rows else since

    def last_cursor(self) -> int:
        with self._connection() as con:
            return int(con.execute("SELECT coalesce(max(cursor), 0) FROM changes").fetchone()[0])

    def consent_since(self, cursor: int) -> pl.DataFrame:
        """Consent changes after `cursor` (those the published database has not read), oldest first."""
        with self._connection() as con:
            return _frame(con.execute(f"SELECT {', '.join(CONSENT_SCHEMA)} FROM consent_changes WHERE cursor > ? "
                                      "ORDER BY cursor", (cursor,)).fetchall(), CONSENT_SCHEMA)

    def everything(self) -> tuple[dict[str, pl.DataFrame], int]:
        """Every call, complaint and consent change, and the change-log cursor they reflect, read
        in one transaction (a consistent picture while agents go on writing): the ETL's read."""
        schemas = {"calls": CALL_SCHEMA, "complaints": COMPLAINT_SCHEMA, "consent_changes": CONSENT_SCHEMA}
        with self._connection() as con:
            con.execute("BEGIN")
            try:
                tables = {name: _frame(con.execute(f"SELECT {', '.join(schema)} FROM {name} ORDER BY 1").fetchall(),
                                       schema) for name, schema in schemas.items()}
                cursor = int(con.execute("SELECT coalesce(max(cursor), 0) FROM changes").fetchone()[0])
            finally:
                con.execute("COMMIT")
        return tables, cursor


def check_against_database(db: Database, customer_id: int, *, product_id: int | None = None,
                           complaint_id: int | None = None, refund_try: float | None = None) -> None:
    """What only the loaded data can tell, checked before a desk write: the customer exists, the
    product exists, a loaded complaint is this customer's, and a refund is no more than the
    customer paid (for the complaint's product, else in all). Raises DeskError."""
    customer_id = _customer(customer_id)
    if db.row("SELECT 1 FROM customers WHERE customer_id = ?", [customer_id]) is None:
        raise DeskError(f"There is no customer #{customer_id} in the loaded data.")
    if complaint_id is not None and complaint_id < DESK_ID_BASE:
        found = db.row("SELECT customer_id, product_id FROM complaints WHERE complaint_id = ?", [complaint_id])
        if found is None or found[0] != customer_id:
            raise DeskError(f"Customer #{customer_id} has no complaint #{complaint_id}.")
        product_id = product_id if product_id is not None else found[1]
    if product_id is not None and db.row("SELECT 1 FROM products WHERE product_id = ?", [product_id]) is None:
        raise DeskError(f"There is no product #{product_id}; choose one from the list.")
    if refund_try is not None:
        DeskStore._refund(refund_try)
        condition = "AND product_id = ?" if product_id is not None else ""
        params = [customer_id] + ([product_id] if product_id is not None else [])
        paid = db.row(f"""SELECT coalesce(sum(net_amount_try), 0) FROM purchases
                          WHERE customer_id = ? AND status IN ('completed', 'returned') {condition}""", params)
        paid_try = float(paid[0]) if paid else 0.0
        if refund_try > paid_try + 0.005:
            what = f"product #{product_id}" if product_id is not None else "all their orders"
            raise DeskError(f"A refund of {refund_try:,.2f} TRY is more than the customer paid for {what} "
                            f"({paid_try:,.2f} TRY).")
