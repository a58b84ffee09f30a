"""The audit log: every look at customer data and every change a user makes, append-only,
tamper-evident, and failing closed.

Who (user and role), when, what (the action, the customer numbers involved or the list's size,
the filter or search used). Kept in its own SQLite file beside the published database
(`CRM_AUDIT`, default audit.sqlite), which the ETL never touches; triggers refuse any UPDATE or
DELETE, so an entry once written stays as written. The admin's audit page searches it ("who
looked at customer X this month").

Each entry carries a SHA-256 hash of the previous entry's hash and every field of its own (its
customer numbers included), computed inside the write transaction (BEGIN IMMEDIATE), so two
writers (the app, a command-line export) take turns and never fork the chain. `verify` walks the
chain and names the first entry where it breaks; `python -m crm360 audit verify` prints it.

A key file beside the store (`audit.sqlite.key`, 0600, 32 random bytes) is made together with
the store and never removed. It keys the fingerprint of text that may be a password (the name
typed in a failed sign-in), and it marks that a store has existed: a store is created only when
neither exists, so a store deleted while the app runs (or between two runs) is reported as
missing instead of silently started again. It also binds the store to this installation: a new
store records a random store id and its keyed tag, and a store whose tag the key does not make
is refused ("not this installation's audit log").

The running app remembers the last entry it saw (written or walked). Whenever it looks (each write,
the per-view health check when the file changed, each walk), that entry must still be there with
the same hash: a log cut back to an earlier entry, or replaced by another one, is broken even when
its own chain is intact.
"""
from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from crm360 import clock, config
from crm360.sqlite_store import SqliteStore

ACTIONS = ("sign_in", "sign_in_failed", "sign_out", "session_expired", "session_resumed", "search", "profile_view",
           "list_view", "caller_verified", "export", "campaign_change", "identity_decision", "user_change",
           "call_logged", "complaint_opened", "complaint_updated", "consent_changed", "task_done")
MAX_DETAIL_CHARS = 2_000       # a search typed into the box is kept, but not a 10 MB paste
MAX_CUSTOMERS_PER_ENTRY = 5_000  # a list view names its customers; an export of 200,000 says how many
CHAIN_START = "0" * 64         # the link of the first entry
FULL_CHECK_SECONDS = 300       # the whole chain is walked again this often (new entries after every write) ...
FULL_CHECK_SHARE = 0.05        # ... or less often, so the walks take at most this share of one core
_LOG = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    entry_id INTEGER PRIMARY KEY, at TEXT NOT NULL, user_name TEXT NOT NULL, role TEXT NOT NULL,
    action TEXT NOT NULL, page TEXT NOT NULL DEFAULT '', customers INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '{}', prev_hash TEXT, entry_hash TEXT);
CREATE TABLE IF NOT EXISTS audit_customers (
    entry_id INTEGER NOT NULL REFERENCES audit_log, customer_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit_chain_notes (at TEXT NOT NULL, note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit_installation (store_id TEXT NOT NULL, tag TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_customers_customer ON audit_customers (customer_id);
CREATE INDEX IF NOT EXISTS audit_customers_entry ON audit_customers (entry_id);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);
""" + "".join(f"""
CREATE TRIGGER IF NOT EXISTS {table}_append_only_{verb} BEFORE {verb.upper()} ON {table}
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"""
              for table in ("audit_log", "audit_customers", "audit_chain_notes", "audit_installation")
              for verb in ("update", "delete"))


class AuditUnavailable(OSError):
    """The audit log cannot be written or trusted (missing, unwritable, its chain broken), with
    what and where, for an admin."""


@dataclass(frozen=True)
class ChainState:
    """What a walk of the chain found: how many entries check out, the last good one, and the
    first problem (None when the chain is intact)."""
    entries: int = 0
    last_id: int = 0
    last_hash: str = CHAIN_START
    problem: str | None = None
    at_entry: bool = True  # the problem is at an entry of the chain (not the store as a whole)

    @property
    def intact(self) -> bool:
        return self.problem is None

    @property
    def summary(self) -> str | None:
        """The problem as a sentence's end: "its chain breaks at entry 4: ..." or what is wrong
        with the whole store."""
        if self.problem is None:
            return None
        return f"its chain breaks at {self.problem}" if self.at_entry else self.problem


# Ends the note a running app leaves when it finds entries it saw gone: `audit verify` fails on it.
CUT_NOTE = "the app that saw it stopped writing here."


def store_path(database: Path | None = None) -> Path:
    """`CRM_AUDIT`, else audit.sqlite beside the published database (or the one given)."""
    beside = database or config.db_path()
    return Path(os.environ.get("CRM_AUDIT", str(beside.with_name("audit.sqlite"))))


def key_path(store: Path) -> Path:
    """The key file beside a store: the fingerprints' key, and the mark that the store has existed."""
    return store.with_name(store.name + ".key")


def missing_message(store: Path) -> str:
    return (f"The audit log {store} is missing: it was deleted or moved after it was made ({key_path(store).name} "
            "beside it says it existed). Restore it from a backup; the app will not start an empty one by itself.")


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


@dataclass(frozen=True)
class _Queued:
    """An entry waiting for the writer thread (or for the store to be writable again)."""
    args: tuple
    options: dict = field(default_factory=dict)


def entry_hash(prev_hash: str, entry_id: int, at: str, user_name: str, role: str, action: str, page: str,
               customers: int, detail: str, customer_ids: list[int]) -> str:
    """The entry's link: SHA-256 over the previous entry's hash and every field of this one."""
    body = json.dumps([entry_id, at, user_name, role, action, page, customers, detail, customer_ids],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


_ENTRY_COLUMNS = "entry_id, at, user_name, role, action, page, customers, detail, prev_hash, entry_hash"


def _note(con: sqlite3.Connection, text: str, at: str | None = None) -> None:
    """A note in the store about the chain itself, for whoever reads it later (`audit verify`)."""
    con.execute("INSERT INTO audit_chain_notes VALUES (?, ?)",
                (at or clock.wall().isoformat(timespec="seconds"), text))


_ORPHAN_CUSTOMERS = "customer numbers are filed under an entry that is not in the log (added or left behind)"


def walk_chain(con: sqlite3.Connection, after: ChainState | None = None) -> ChainState:
    """Check every entry after `after` (from the first without it) against its link and contents;
    stops at the first problem and names the entry and what is wrong."""
    state = after if after is not None and after.intact else ChainState()
    entries = con.execute(f"SELECT {_ENTRY_COLUMNS} FROM audit_log WHERE entry_id > ? ORDER BY entry_id",
                          (state.last_id,))
    customers = _grouped_customers(con, state.last_id)
    pending = next(customers, None)
    count, last_id, last_hash = state.entries, state.last_id, state.last_hash
    for entry_id, at, user_name, role, action, page, shown, detail, prev_hash, stored_hash in entries:
        ids: list[int] = []
        if pending is not None and pending[0] < entry_id:
            return ChainState(count, last_id, last_hash, f"entry {pending[0]}: {_ORPHAN_CUSTOMERS}")
        if pending is not None and pending[0] == entry_id:
            ids, pending = pending[1], next(customers, None)
        if stored_hash is None:
            problem = "has no chain hash (written outside the app, or by a release before the chain)"
        elif prev_hash != last_hash:
            problem = (f"its link does not match entry {last_id} before it (an entry before it was removed, "
                       "inserted or rewritten)" if last_id else "its link does not start the chain (entries before "
                                                                "it were removed)")
        elif entry_hash(last_hash, entry_id, at, user_name, role, action, page, shown, detail, ids) != stored_hash:
            problem = "its contents do not match its hash (it or its customer numbers were changed after writing)"
        else:
            count, last_id, last_hash = count + 1, entry_id, stored_hash
            continue
        return ChainState(count, last_id, last_hash, f"entry {entry_id}: {problem}")
    if pending is not None:
        return ChainState(count, last_id, last_hash, f"entry {pending[0]}: {_ORPHAN_CUSTOMERS}")
    return ChainState(count, last_id, last_hash)


def _grouped_customers(con: sqlite3.Connection, after_id: int) -> Iterator[tuple[int, list[int]]]:
    """(entry id, its customer numbers in the order written), entry by entry."""
    rows = con.execute("SELECT entry_id, customer_id FROM audit_customers WHERE entry_id > ? ORDER BY entry_id, rowid",
                       (after_id,))
    current, ids = None, []
    for entry_id, customer_id in rows:
        if entry_id != current and current is not None:
            yield current, ids
            ids = []
        current = entry_id
        ids.append(customer_id)
    if current is not None:
        yield current, ids


# One writer thread for the app's entries, in the order they were made: a lookup does not wait
# for the write. Chain checks run on a thread of their own so a long walk does not hold writes up.
_WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-writer")
_CHECKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-chain-check")


def flush(include_walks: bool = False) -> None:
    """Wait until every entry queued so far has been written (or failed and been kept for later),
    and, if asked, every chain walk asked for so far has finished."""
    _WRITER.submit(lambda: None).result()
    if include_walks:
        _CHECKER.submit(lambda: None).result()


class AuditLog(SqliteStore):
    SCHEMA = SCHEMA
    # An entry survives the app crashing (not the machine losing power mid-write), and writing
    # one costs no fsync on the agent's lookup.
    SYNCHRONOUS = "NORMAL"

    def __init__(self, path: Path | None = None, *, watch: bool = False) -> None:
        """Open the store (made only if none has existed): AuditUnavailable when it is missing,
        sqlite3.Error when the file is not a store SQLite can write (as every store raises).
        `watch` (the app): walk the whole chain on a background thread now and every
        FULL_CHECK_SECONDS or so, for `health`."""
        path = Path(path or store_path())
        if not path.exists() and key_path(path).exists():
            raise AuditUnavailable(missing_message(path))
        self._may_create = created = not path.exists()
        self._lock = threading.Lock()        # the entries kept back
        self._chain_lock = threading.Lock()  # the chain as last checked
        self._unwritten: list[_Queued] = []
        self._write_problem: str | None = None
        super().__init__(path)  # 0600 like every store: who looked at which customer is itself personal data
        self._may_create = False
        self._chain_existing_entries()
        self._key = self._bind_to_installation(created)
        self._identity = _identity(path)
        self._chain: ChainState | None = None  # not walked yet
        self._seen: tuple[int, str] | None = None  # the last entry this app saw: (id, hash)
        self._lost: str | None = None  # that entry was found gone or changed (until the app restarts)
        self._checked_at, self.checked_at, self._walk_seconds = time.monotonic(), None, 0.0
        self._watch = watch
        if watch:
            _CHECKER.submit(self.check_chain)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """Like every store's, except that a missing file is never made again behind the admins'
        back (only the constructor makes the store, and only the first time)."""
        uri = f"{self.path.resolve().as_uri()}?mode={'rwc' if self._may_create else 'rw'}"
        with closing(sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)) as con:
            con.execute("PRAGMA foreign_keys=ON")
            con.execute(f"PRAGMA synchronous={self.SYNCHRONOUS}")
            yield con

    def _chain_existing_entries(self) -> None:
        """A store made before the chain gets its columns, and its entries are chained once, in
        order, with a note saying so: from then on the chain vouches for them as they were found."""
        with self._write() as con:
            columns = {row[1] for row in con.execute("PRAGMA table_info(audit_log)")}
            if "entry_hash" in columns:
                return
            con.execute("ALTER TABLE audit_log ADD COLUMN prev_hash TEXT")
            con.execute("ALTER TABLE audit_log ADD COLUMN entry_hash TEXT")
            con.execute("DROP TRIGGER IF EXISTS audit_log_append_only_update")
            last = CHAIN_START
            rows = con.execute(f"SELECT {_ENTRY_COLUMNS} FROM audit_log ORDER BY entry_id").fetchall()
            customers = dict(_grouped_customers(con, 0))
            for entry_id, at, user_name, role, action, page, shown, detail, _, _ in rows:
                link = entry_hash(last, entry_id, at, user_name, role, action, page, shown, detail,
                                  customers.get(entry_id, []))
                con.execute("UPDATE audit_log SET prev_hash = ?, entry_hash = ? WHERE entry_id = ?",
                            (last, link, entry_id))
                last = link
            con.execute("CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log "
                        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
            _note(con, f"{len(rows):,} entries written before the hash chain existed were chained when this release "
                       "first opened the store; the chain vouches for them as they were then.")

    def _bind_to_installation(self, created: bool) -> bytes:
        """The key, once the store is shown to be this installation's: a new store (or one made
        before stores were bound, with a note saying so) gets a random store id and its keyed tag;
        any other store's tag must be the one the key makes. AuditUnavailable when it is not."""
        key_file = key_path(self.path)
        with self._write() as con:
            tagged = con.execute("SELECT count(*) FROM audit_installation").fetchone()[0]
            if not tagged:
                if not created and not key_file.exists():
                    _LOG.warning("the audit log %s had no key file; a new key was made", self.path)
                key = _key(key_file)
                store_id = secrets.token_hex(16)
                con.execute("INSERT INTO audit_installation VALUES (?, ?)", (store_id, _tag(key, store_id)))
                if not created:
                    _note(con, f"This store was made before stores were bound to their installation; it was bound "
                               f"to {key_file.name} when this release first opened it.")
                return key
        if not key_file.exists():
            raise AuditUnavailable(f"The audit log {self.path} cannot be shown to be this installation's: its key "
                                   f"file {key_file.name} is missing. Restore the key from the same backup.")
        key = key_file.read_bytes()
        with self._connection() as con:
            problem = _installation_problem(con, key, key_file)
        if problem is not None:
            raise AuditUnavailable(f"The audit log {self.path} is {problem}.")
        return key

    # --- writing ----------------------------------------------------------------------------------

    def record(self, user_name: str, role: str, action: str, *, page: str = "",
               customer_ids: Iterable[int] = (), customers: int | None = None, at: datetime | None = None,
               **detail: object) -> int:
        """Append one entry now; `customers` is how many customers it concerns (default: the ids
        given, which are stored up to MAX_CUSTOMERS_PER_ENTRY so the entry stays searchable by
        customer). Raises AuditUnavailable when it cannot be written."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        ids = list(dict.fromkeys(int(i) for i in customer_ids))
        stored = ids[:MAX_CUSTOMERS_PER_ENTRY]
        text = json.dumps(detail, ensure_ascii=False, default=str)
        if len(text) > MAX_DETAIL_CHARS:
            text = json.dumps({"truncated": text[:MAX_DETAIL_CHARS]}, ensure_ascii=False)
        moment = (at or clock.wall()).isoformat(timespec="seconds")
        count = len(ids) if customers is None else int(customers)
        try:
            with self._write() as con:
                # Inside the write transaction: nothing is chained onto a log cut back or replaced.
                if (lost := self._seen_problem(con)) is not None:
                    if self._lost is None:  # left in the store too, for whoever reads it after a restart
                        _note(con, f"{lost}; {CUT_NOTE}", moment)
                else:
                    # Read the last link inside the write transaction: a second writer waits for this one.
                    last = con.execute("SELECT entry_id, entry_hash FROM audit_log ORDER BY entry_id DESC LIMIT 1"
                                       ).fetchone()
                    entry_id, prev = (last[0] + 1, last[1] or "") if last else (1, CHAIN_START)
                    link = entry_hash(prev, entry_id, moment, user_name, role, action, page, count, text, stored)
                    con.execute(f"INSERT INTO audit_log ({_ENTRY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                (entry_id, moment, user_name, role, action, page, count, text, prev, link))
                    con.executemany("INSERT INTO audit_customers VALUES (?, ?)",
                                    [(entry_id, customer) for customer in stored])
        except sqlite3.Error as error:
            raise AuditUnavailable(f"The audit log {self.path} cannot be written: {error}") from error
        if lost is not None:
            self._lose(lost)
            raise AuditUnavailable(self._broken_message(self.chain))
        self._saw(entry_id, link)
        self._chain_written(entry_id, prev, link)
        with contextlib.suppress(OSError):  # the app's own write changed the file: no reason to look again
            self._identity = _identity(self.path)
        return entry_id

    def _seen_problem(self, con: sqlite3.Connection) -> str | None:
        """Whether the last entry this app saw is still there with the same hash (one indexed read)."""
        seen = self._seen
        if seen is None:
            return None
        found = con.execute("SELECT entry_hash FROM audit_log WHERE entry_id = ?", (seen[0],)).fetchone()
        if found is not None and found[0] == seen[1]:
            return None
        return (f"entry {seen[0]} (hash {seen[1][:16]}) that this app saw is gone or changed: the log was cut or "
                "replaced")

    def _saw(self, entry_id: int, link: str) -> None:
        with self._chain_lock:
            if self._lost is None and (self._seen is None or entry_id >= self._seen[0]):
                self._seen = (entry_id, link)

    def _lose(self, problem: str) -> None:
        if self._lost is None:
            _LOG.error("the audit log %s: %s", self.path, problem)
            self._lost = problem

    def _chain_written(self, entry_id: int, prev: str, link: str) -> None:
        """Move the checked chain on by the entry just written; when another writer (a command-line
        export) wrote in between, check its entries too."""
        with self._chain_lock:
            chain = self._chain
            if chain is None:  # the walk under way includes it, or the next write checks it
                return
            if chain.intact and chain.last_id == entry_id - 1 and chain.last_hash == prev:
                self._chain = ChainState(chain.entries + 1, entry_id, link)
                return
        self._check_new_entries()

    def submit(self, user_name: str, role: str, action: str, **options: object) -> Future:
        """Queue an entry for the writer thread. One that cannot be written is kept, in order, and
        written by the next health check that finds the store writable again."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        return _WRITER.submit(self._write_queued, _Queued((user_name, role, action), options))

    def _write_queued(self, entry: _Queued) -> None:
        with self._lock:
            self._unwritten.append(entry)
        if self._write_unwritten() is not None:  # who did what stays in the server log if the app stops now
            user_name, role, action = entry.args
            _LOG.error("audit entry kept in memory until the log takes it: %s by %s (%s) on %s", action, user_name,
                       role, entry.options.get("page") or "-")

    def _write_unwritten(self) -> str | None:
        """Write the entries kept back, oldest first; the problem if one still cannot be written."""
        with self._lock:
            while self._unwritten:
                entry = self._unwritten[0]
                try:
                    self.record(*entry.args, **entry.options)
                except AuditUnavailable as error:
                    if self._write_problem is None:
                        _LOG.error("%s (%d entries kept in memory until it can)", error, len(self._unwritten))
                    self._write_problem = str(error)
                    return self._write_problem
                self._unwritten.pop(0)
            self._write_problem = None
            return None

    # --- its state ----------------------------------------------------------------------------------

    def health(self) -> str | None:
        """Why the log cannot be trusted to record a view right now, for an admin; None when it can.
        Cheap (two stats and an access check, about 14 µs) unless something is wrong or someone
        else wrote the file."""
        try:
            identity = _identity(self.path)
        except FileNotFoundError:
            return missing_message(self.path)
        if identity != self._identity:  # written by someone else, restored from a backup, or swapped
            replaced = identity[:2] != self._identity[:2]
            self._identity = identity
            if replaced:
                self.check_chain()
            else:
                self._check_new_entries()
        if not (os.access(self.path, os.W_OK) and os.access(self.path.parent, os.W_OK)):
            return f"The audit log {self.path} cannot be written: the file or its folder is read-only."
        if self._write_problem is not None and (problem := self._write_unwritten()) is not None:
            return problem
        chain = self.chain
        if chain is not None and not chain.intact:
            return self._broken_message(chain)
        pause = max(FULL_CHECK_SECONDS, self._walk_seconds / FULL_CHECK_SHARE)
        if self._watch and time.monotonic() - self._checked_at > pause:
            self._checked_at = time.monotonic()
            _CHECKER.submit(self.check_chain)
        return None

    def _broken_message(self, chain: ChainState) -> str:
        then = ("Restore it from a backup and restart the app (which trusts the restored log from there)."
                if self._lost is not None else "`python -m crm360 audit verify` shows the same.")
        return f"The audit log {self.path} has been tampered with: {chain.summary}. {then}"

    @property
    def chain(self) -> ChainState | None:
        """The chain as last checked (by the whole walk, then entry by entry as they are written);
        None until the first walk since opening has finished. Broken once the last entry this app
        saw was found gone or changed, whatever the walk of what is there says."""
        chain = self._chain
        if self._lost is not None and (chain is None or chain.intact):
            return ChainState(problem=self._lost, at_entry=False)
        return chain

    def check_chain(self) -> ChainState:
        """Walk the whole chain again."""
        started = time.monotonic()
        try:
            found = self._walk_store()
        except AuditUnavailable as error:
            found = ChainState(problem=f"the store cannot be read ({error})", at_entry=False)
        with self._chain_lock:
            self._chain = found
        self._checked_at, self.checked_at = time.monotonic(), datetime.now()
        self._walk_seconds = self._checked_at - started
        return found

    def _check_new_entries(self) -> None:
        """The last entry this app saw is still there, and the entries after the checked chain
        check out."""
        lost = None
        with self._chain_lock:
            try:
                with self._connection() as con:
                    lost = self._seen_problem(con)
                    chain = self._chain
                    if lost is None and chain is not None and chain.intact:  # a broken one stays so until walked
                        self._chain = walk_chain(con, chain)
            except sqlite3.Error as error:
                _LOG.error("the audit chain could not be checked: %s", error)
            chain = self._chain
        if lost is not None:
            self._lose(lost)
        elif chain is not None and chain.intact and chain.entries:
            self._saw(chain.last_id, chain.last_hash)

    def verify(self) -> ChainState:
        """Walk the whole chain from its first entry (and check the store is this installation's)."""
        return self._walk_store()

    def _walk_store(self) -> ChainState:
        """The whole store in one read snapshot: its installation tag, the last entry this app saw,
        then every entry's link."""
        try:
            with self._connection() as con:
                con.execute("BEGIN")
                try:
                    foreign = _installation_problem(con, self._key, key_path(self.path))
                    lost = None if foreign else self._seen_problem(con)
                    chain = walk_chain(con) if foreign is None and lost is None else None
                finally:
                    con.execute("COMMIT")  # ends the read snapshot
        except sqlite3.Error as error:
            raise AuditUnavailable(f"The audit log {self.path} cannot be read: {error}") from error
        if foreign is not None:
            return ChainState(problem=foreign, at_entry=False)
        if lost is not None:
            self._lose(lost)
            return ChainState(problem=lost, at_entry=False)
        if chain.intact and chain.entries:
            self._saw(chain.last_id, chain.last_hash)
        return chain

    def notes(self) -> list[str]:
        """What was done to the chain itself (e.g. entries from before it, chained once)."""
        try:
            with self._connection() as con:
                return [f"{at}: {note}" for at, note in con.execute("SELECT at, note FROM audit_chain_notes "
                                                                    "ORDER BY at")]
        except sqlite3.Error as error:
            raise AuditUnavailable(f"The audit log {self.path} cannot be read: {error}") from error

    def fingerprint(self, text: str) -> str:
        """A keyed hash (HMAC-SHA256) of text that must not be stored, such as a name typed at
        sign-in that may be a password: the same text gives the same fingerprint, so repeated
        attempts can be told apart, and without the key it cannot be guessed back."""
        return hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:16]

    # --- reading ------------------------------------------------------------------------------------

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
        try:
            with self._connection() as con:
                rows = con.execute(f"SELECT {_ENTRY_COLUMNS} FROM audit_log WHERE {where} ORDER BY entry_id DESC "
                                   "LIMIT ?", (*params, limit)).fetchall()
        except sqlite3.Error as error:
            raise AuditUnavailable(f"The audit log {self.path} cannot be read: {error}") from error
        return [Entry(r[0], datetime.fromisoformat(r[1]), r[2], r[3], r[4], r[5], r[6], json.loads(r[7]))
                for r in rows]

    def first_customers(self, entry_ids: list[int], per_entry: int = 5) -> dict[int, list[int]]:
        """The first customer numbers of each entry (in the order recorded), for a listing that
        answers "which customers did this agent look at" without opening each entry."""
        if not entry_ids:
            return {}
        marks = ", ".join("?" * len(entry_ids))
        with self._connection() as con:
            rows = con.execute(
                f"""SELECT entry_id, customer_id FROM (
                        SELECT entry_id, customer_id, row_number() OVER (PARTITION BY entry_id ORDER BY rowid) AS n
                        FROM audit_customers WHERE entry_id IN ({marks}))
                    WHERE n <= ? ORDER BY entry_id, n""", (*entry_ids, per_entry)).fetchall()
        found: dict[int, list[int]] = {}
        for entry_id, customer_id in rows:
            found.setdefault(entry_id, []).append(customer_id)
        return found

    def customers_of(self, entry_id: int) -> list[int]:
        with self._connection() as con:
            return [r[0] for r in con.execute("SELECT customer_id FROM audit_customers WHERE entry_id = ? "
                                              "ORDER BY rowid", (entry_id,)).fetchall()]


def _identity(path: Path) -> tuple[int, ...]:
    """The file (device, inode) and its state (size and change time, of the write-ahead log too):
    two stats, a few microseconds. Any write changes it."""
    store = path.stat()
    try:
        wal = path.with_name(path.name + "-wal").stat()
        written = (wal.st_size, wal.st_mtime_ns)
    except FileNotFoundError:
        written = (-1, -1)
    return store.st_dev, store.st_ino, store.st_size, store.st_mtime_ns, *written


def _tag(key: bytes, store_id: str) -> str:
    return hmac.new(key, f"audit store {store_id}".encode(), hashlib.sha256).hexdigest()


def _installation_problem(con: sqlite3.Connection, key: bytes, key_file: Path) -> str | None:
    """None when the store's tag is the one this installation's key makes for its store id."""
    try:
        tags = con.execute("SELECT store_id, tag FROM audit_installation").fetchall()
    except sqlite3.OperationalError:  # a store from before the tag, put in this one's place
        tags = []
    if len(tags) == 1 and hmac.compare_digest(str(tags[0][1]), _tag(key, str(tags[0][0]))):
        return None
    return (f"not this installation's audit log: its tag was not made with {key_file.name} (another store was put "
            "in its place, or the key was replaced)")


def _key(path: Path) -> bytes:
    """The store's secret key, made (0600) the first time it is needed."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(descriptor, "wb") as out:
        key = secrets.token_bytes(32)
        out.write(key)
    return key
