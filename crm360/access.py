"""Who may use the app and what each role sees: users, roles, passwords, sign-in attempts.

Users live in a SQLite file beside the published database (`CRM_USERS`, default users.sqlite),
which an admin manages with `python -m crm360 users ...`; the ETL never touches it. Passwords
are hashed with Argon2id (argon2-cffi: memory-hard, salted, parameters in the hash), never
stored or logged. Sign-in attempts are counted per user name: after `MAX_FAILED_SIGN_INS`
failures within `LOCKOUT_MINUTES` the name is locked for that long, whatever the password.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from crm360 import config
from crm360.sqlite_store import SqliteStore

ROLES = ("agent", "marketing", "service_lead", "executive", "admin")
ROLE_TITLES = {"agent": "Agent", "marketing": "Marketing", "service_lead": "Service lead", "executive": "Executive",
               "admin": "Admin"}
# The pages each role may open (by the page's url path; "" is the overview). An agent serves the
# customer on the line; marketing works on consented lists; a service lead works the service rows
# of the outreach list (overdue answers, stalled complaints, follow-ups, fixed defects) with the
# contact detail each matter needs, and their service campaigns; agents see their own follow-up
# tasks and a service lead (who leads the agents) everyone's; executives read aggregates with
# no individual customer on them; admins run the loads, the users and the audit.
PAGE_ROLES: dict[str, frozenset[str]] = {
    "": frozenset(ROLES),
    "customer": frozenset({"agent"}),
    "follow-ups": frozenset({"agent", "service_lead"}),
    "segments": frozenset({"marketing"}),
    "outreach": frozenset({"marketing", "service_lead"}),
    "campaigns": frozenset({"marketing", "service_lead"}),
    "model": frozenset({"marketing", "executive"}),
    "trends": frozenset({"executive"}),
    "data-health": frozenset({"admin"}),
    "users": frozenset({"admin"}),
    "audit": frozenset({"admin"}),
}
MAX_FAILED_SIGN_INS = 5     # a person mistypes a few times; a guesser needs thousands
LOCKOUT_MINUTES = 15        # long enough to make guessing hopeless, short enough to wait out
USER_NAME_PATTERN = r"^[a-z0-9._-]{2,40}$"
MIN_PASSWORD_LENGTH = 12
TICKET_SECONDS = 30         # the hand-over from the sign-in form to the cookie takes well under a second
# However active, a session ends after a working day: a token copied off a machine does not live
# on for ever by being used.
SESSION_MAX_HOURS = 12
# Why a browser session ended (sessions.end_reason), as the sign-in page tells the person.
ENDED_SIGNED_OUT, ENDED_IDLE, ENDED_TOO_OLD = "signed out", "idle", "too old"
ENDED_REMOVED, ENDED_NEW_PASSWORD = "user removed", "new password"

_HASHER = PasswordHasher()  # Argon2id with the library's current defaults (64 MiB, 3 passes)


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user name is unknown, so a wrong name costs as long as a wrong
    password (and the answer cannot tell which names exist)."""
    return _HASHER.hash(secrets.token_urlsafe(16))

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    user_name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS sign_in_attempts (
    user_name TEXT NOT NULL, at TEXT NOT NULL, succeeded INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS sign_in_attempts_user ON sign_in_attempts (user_name, at);
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY, user_name TEXT NOT NULL, role TEXT NOT NULL,
    started_at TEXT NOT NULL, last_active_at TEXT NOT NULL, ended_at TEXT, end_reason TEXT,
    ticket_hash TEXT UNIQUE, ticket_expires_at TEXT);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_name, ended_at);
"""


class AccessError(ValueError):
    """A user change or sign-in that cannot be done as asked, with the reason for the person."""


class RemovedUserError(AccessError):
    """A new user under the name of a removed one: the name stays theirs (the audit log names them);
    the command line and the Users page each say how to restore them."""

    def __init__(self, user_name: str) -> None:
        super().__init__(f"{user_name!r} belongs to a removed user: restore them instead of adding a new one.")
        self.user_name = user_name


class LastAdminError(AccessError):
    """A change that would leave no active admin, so nobody could manage users any more."""


@dataclass(frozen=True)
class SessionCheck:
    """What the store says of a browser session: the user it signs in (None when it is over), and
    why it is over; `ended_now` when this check ended it (so the end is recorded once)."""
    user: User | None
    user_name: str = ""
    ended: str | None = None
    ended_now: bool = False


@dataclass(frozen=True)
class User:
    user_name: str
    role: str

    @property
    def title(self) -> str:
        return f"{self.user_name} ({ROLE_TITLES.get(self.role, self.role)})"


def store_path() -> Path:
    """`CRM_USERS`, else users.sqlite beside the published database."""
    return Path(os.environ.get("CRM_USERS", str(config.db_path().with_name("users.sqlite"))))


def may_open(role: str | None, page: str) -> bool:
    return role is not None and role in PAGE_ROLES.get(page, frozenset())


def new_password() -> str:
    """A password to hand out once: 16 random URL-safe characters (about 96 bits)."""
    return secrets.token_urlsafe(12)


ADMIN = "admin"  # the role that manages users: the store always keeps one active


class UserStore(SqliteStore):
    SCHEMA = SCHEMA

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(path or store_path())

    def add(self, user_name: str, role: str, password: str | None = None) -> str:
        """Add a user; returns the password (the one given, or a new one to hand out once)."""
        user_name = _checked_name(user_name)
        _check_role(role)
        password = password if password is not None else new_password()
        _check_password(password)
        with self._write() as con:
            taken = con.execute("SELECT active FROM users WHERE user_name = ?", (user_name,)).fetchone()
            if taken is not None and not taken[0]:
                raise RemovedUserError(user_name)
            if taken is not None:
                raise AccessError(f"There is already a user {user_name!r}.")
            con.execute("INSERT INTO users VALUES (?, ?, ?, ?, 1)",
                        (user_name, role, _HASHER.hash(password), datetime.now().isoformat(timespec="seconds")))
        return password

    def set_password(self, user_name: str, password: str | None = None) -> str:
        password = password if password is not None else new_password()
        _check_password(password)
        with self._write() as con:  # a new password is given when the old one may be known: its sessions end
            _set(con, user_name, "password_hash = ?", _HASHER.hash(password))
            _end_sessions_of(con, user_name, ENDED_NEW_PASSWORD)
        return password

    def set_role(self, user_name: str, role: str) -> str:
        """Give a user another role; returns the one they had. The last active admin keeps theirs
        (someone must manage users)."""
        _check_role(role)
        with self._write() as con:  # the check and the change in one transaction: two admins demoting
            if role != ADMIN:       # each other at once cannot leave none
                _keep_an_admin(con, user_name, "demoted")
            was = con.execute("SELECT role FROM users WHERE user_name = ? AND active = 1",
                              (user_name.strip().lower(),)).fetchone()
            _set(con, user_name, "role = ?", role)
        return was[0]

    def check_admin_kept(self, user_name: str, new_role: str | None) -> None:
        """Raise LastAdminError if making `user_name` `new_role` (None: removing them) would leave no
        active admin: for a page to say so before asking for confirmation. The change itself checks
        again, in its own transaction."""
        if new_role != ADMIN:
            with self._connection() as con:
                _keep_an_admin(con, user_name, "removed" if new_role is None else "demoted")

    def remove(self, user_name: str) -> None:
        """Deactivate a user (kept, so the audit log's names still mean someone); never the last
        active admin."""
        with self._write() as con:
            _keep_an_admin(con, user_name, "removed")
            _set(con, user_name, "active = ?", 0)
            _end_sessions_of(con, user_name, ENDED_REMOVED)

    def restore(self, user_name: str, password: str | None = None) -> str:
        """Bring a removed user back with their role and a new password (the one given, or a new one
        to hand out once: whatever they had before may have left with them)."""
        password = password if password is not None else new_password()
        _check_password(password)
        name = (user_name or "").strip().lower()
        with self._write() as con:
            found = con.execute("SELECT active FROM users WHERE user_name = ?", (name,)).fetchone()
            if found is None:
                raise AccessError(f"There is no user {user_name!r}.")
            if found[0]:
                raise AccessError(f"{name!r} is not removed: nothing to restore.")
            con.execute("UPDATE users SET active = 1, password_hash = ? WHERE user_name = ?",
                        (_HASHER.hash(password), name))
        return password

    def _update(self, user_name: str, assignment: str, value: object) -> None:
        with self._write() as con:
            _set(con, user_name, assignment, value)

    def users(self) -> list[tuple[str, str, str]]:
        """(user name, role, created) of every active user."""
        with self._connection() as con:
            return con.execute("SELECT user_name, role, created_at FROM users WHERE active = 1 "
                               "ORDER BY user_name").fetchall()

    def active_role(self, user_name: str) -> str | None:
        """The role of an active user; None for a removed or unknown name. Asked on every page run,
        so removing a user or changing a role takes effect at their next click, not at their next
        sign-in."""
        with self._connection() as con:
            row = con.execute("SELECT role FROM users WHERE user_name = ? AND active = 1", (user_name,)).fetchone()
        return row[0] if row else None

    def removed_users(self) -> list[tuple[str, str, str]]:
        """(user name, role, created) of every removed user: their names stay theirs (the audit log
        names them), and `restore` brings one back."""
        with self._connection() as con:
            return con.execute("SELECT user_name, role, created_at FROM users WHERE active = 0 "
                               "ORDER BY user_name").fetchall()

    def sign_in(self, user_name: str, password: str, now: datetime | None = None) -> User:
        """The user, if the password is theirs and the name is not locked; raises AccessError with
        what to tell the person (never whether the name exists)."""
        now = now or datetime.now()
        name = (user_name or "").strip().lower()[:100]
        locked_until = self.locked_until(name, now)
        if locked_until is not None:
            minutes = max(1, round((locked_until - now).total_seconds() / 60))
            raise AccessError(f"Too many failed sign-ins for this user: try again in {minutes} minute"
                              f"{'s' if minutes != 1 else ''}.")
        with self._connection() as con:
            row = con.execute("SELECT role, password_hash FROM users WHERE user_name = ? AND active = 1",
                              (name,)).fetchone()
        if not _verifies(row[1] if row else _dummy_hash(), password or "") or row is None:
            self._attempt(name, now, False)
            raise AccessError("Wrong user name or password.")
        self._attempt(name, now, True)
        if _HASHER.check_needs_rehash(row[1]):
            self._update(name, "password_hash = ?", _HASHER.hash(password))
        return User(name, row[0])

    def locked_until(self, user_name: str, now: datetime) -> datetime | None:
        """When the name's lock ends, if it is locked: enough failures since the window opened
        and since the last success."""
        since = (now - timedelta(minutes=LOCKOUT_MINUTES)).isoformat()
        with self._connection() as con:
            last_success = con.execute("SELECT max(at) FROM sign_in_attempts WHERE user_name = ? AND succeeded = 1",
                                       (user_name,)).fetchone()[0]
            failures = con.execute(
                "SELECT count(*), max(at) FROM sign_in_attempts WHERE user_name = ? AND succeeded = 0 AND at > ? "
                "AND at > ?", (user_name, since, last_success or "")).fetchone()
        if failures[0] < MAX_FAILED_SIGN_INS:
            return None
        return datetime.fromisoformat(failures[1]) + timedelta(minutes=LOCKOUT_MINUTES)

    # --- browser sessions: the signed cookie (crm360/session_token.py) names one of these rows ---

    def start_session(self, user: User, now: datetime | None = None) -> tuple[str, str]:
        """A session for a user who has just signed in, and a one-time ticket, valid TICKET_SECONDS,
        that the browser exchanges for its cookie. Only the ticket's hash is kept."""
        now = now or datetime.now()
        session_id, ticket = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._write() as con:
            con.execute("DELETE FROM sessions WHERE last_active_at < ?",  # long over, whatever ended them
                        (_at(now - timedelta(hours=2 * SESSION_MAX_HOURS)),))
            con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?)",
                        (session_id, user.user_name, user.role, _at(now), _at(now), _digest(ticket),
                         _at(now + timedelta(seconds=TICKET_SECONDS))))
        return session_id, ticket

    def redeem_ticket(self, ticket: str, now: datetime | None = None) -> str | None:
        """The session a ticket was made for, once: this call spends the ticket whatever it finds.
        None for an unknown, spent or expired ticket, or a session already over."""
        now = now or datetime.now()
        with self._write() as con:  # read and spend in one transaction: two redemptions cannot both find it
            row = con.execute("SELECT session_id, ticket_expires_at, ended_at FROM sessions WHERE ticket_hash = ?",
                              (_digest(ticket),)).fetchone()
            if row is not None:
                con.execute("UPDATE sessions SET ticket_hash = NULL, ticket_expires_at = NULL WHERE session_id = ?",
                            (row[0],))
        if row is None or row[2] is not None or datetime.fromisoformat(row[1]) < now:
            return None
        return row[0]

    def check_session(self, session_id: str, idle_minutes: float, now: datetime | None = None) -> SessionCheck:
        """The user a session signs in now, with their current role, and its last activity moved to
        now (the idle window slides); or why it is over: signed out, idle longer than `idle_minutes`,
        older than SESSION_MAX_HOURS, its user removed or given a new password. The store decides,
        so a kept or copied cookie cannot outlive any of these."""
        now = now or datetime.now()
        with self._write() as con:
            row = con.execute(
                "SELECT s.user_name, s.started_at, s.last_active_at, s.end_reason, u.role, u.active "
                "FROM sessions s LEFT JOIN users u USING (user_name) WHERE s.session_id = ?", (session_id,)).fetchone()
            if row is None:
                return SessionCheck(None, ended="unknown")
            name, started, last, ended, role, active = row
            if ended is not None:
                return SessionCheck(None, name, ended)
            ended = (ENDED_IDLE if now - datetime.fromisoformat(last) > timedelta(minutes=idle_minutes)
                     else ENDED_TOO_OLD if now - datetime.fromisoformat(started) > timedelta(hours=SESSION_MAX_HOURS)
                     else ENDED_REMOVED if not active else None)
            if ended is not None:
                con.execute("UPDATE sessions SET ended_at = ?, end_reason = ? WHERE session_id = ?",
                            (_at(now), ended, session_id))
                return SessionCheck(None, name, ended, ended_now=True)
            con.execute("UPDATE sessions SET last_active_at = ?, role = ? WHERE session_id = ?",
                        (_at(now), role, session_id))
        return SessionCheck(User(name, role), name)

    def end_session(self, session_id: str, reason: str = ENDED_SIGNED_OUT, now: datetime | None = None) -> str | None:
        """End a session (sign-out); the user name if it was still going, None if it was over already."""
        with self._write() as con:
            row = con.execute("UPDATE sessions SET ended_at = ?, end_reason = ? WHERE session_id = ? "
                              "AND ended_at IS NULL RETURNING user_name",
                              (_at(now or datetime.now()), reason, session_id)).fetchone()
        return row[0] if row else None

    def _attempt(self, user_name: str, now: datetime, succeeded: bool) -> None:
        with self._connection() as con:
            con.execute("INSERT INTO sign_in_attempts VALUES (?, ?, ?)",
                        (user_name, now.isoformat(timespec="microseconds"), int(succeeded)))


def _set(con: sqlite3.Connection, user_name: str, assignment: str, value: object) -> None:
    changed = con.execute(f"UPDATE users SET {assignment} WHERE user_name = ? AND active = 1",
                          (value, user_name.strip().lower())).rowcount
    if not changed:
        raise AccessError(f"There is no user {user_name!r}.")


def _end_sessions_of(con: sqlite3.Connection, user_name: str, reason: str) -> None:
    con.execute("UPDATE sessions SET ended_at = ?, end_reason = ? WHERE user_name = ? AND ended_at IS NULL",
                (_at(datetime.now()), reason, user_name.strip().lower()))


def _at(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _digest(ticket: str) -> str:
    """A ticket is kept as its hash: a copy of the store does not hand out a way in."""
    return hashlib.sha256(ticket.encode("utf-8", "surrogatepass")).hexdigest()


def _keep_an_admin(con: sqlite3.Connection, user_name: str, change: str) -> None:
    admins = [row[0] for row in con.execute("SELECT user_name FROM users WHERE role = ? AND active = 1", (ADMIN,))]
    if admins == [user_name.strip().lower()]:
        raise LastAdminError(f"{admins[0]!r} is the last admin and cannot be {change}: make another user admin "
                             "first, so someone can still manage users.")


def _verifies(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _checked_name(user_name: str) -> str:
    name = (user_name or "").strip().lower()
    if not re.fullmatch(USER_NAME_PATTERN, name):
        raise AccessError("A user name is 2-40 characters: lower-case letters, digits, '.', '_' or '-'.")
    return name


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccessError(f"Unknown role {role!r}; one of {', '.join(ROLES)}.")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccessError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > 1_000:
        raise AccessError("A password is at most 1,000 characters.")
