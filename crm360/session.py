"""Sign-in, the signed-in user and the audit trail, as the pages use them (Streamlit glue).

`CRM_AUTH=none` switches sign-in off for a laptop or a test: one local user with every role,
and every page says so. Otherwise dashboard.py asks for a user name and password before it
shows any page, the navigation lists only the pages of the user's role, and each page checks
the role itself (`require`), so a typed URL or a deep link does not get round it. A session
ends after `config.SESSION_IDLE_MINUTES` without activity.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlparse

import polars as pl
import streamlit as st

from crm360 import access, audit, clock, config, export, session_token
from crm360.access import User
from crm360.audit import AuditLog, AuditUnavailable

LOCAL = User("local", "all")
# Pages whose views or actions are audited (they show individual customers, or change users,
# campaigns or identity decisions): closed while the audit log cannot record them, so that no view
# goes unrecorded and no change is made that the log would not hold.
AUDITED_PAGES = frozenset({"customer", "follow-ups", "segments", "outreach", "campaigns", "data-health", "audit",
                           "users"})
AUDIT_CLOSED = ("What is seen and done on this page is recorded in the audit log, which cannot be written right "
                "now, so the page is closed. An admin has been alerted; try again later.")
_LOG = logging.getLogger(__name__)
_USER, _LAST_ACTIVE, _NOTICE = "signed_in_user", "last_active_at", "sign_in_notice"


def local_mode() -> bool:
    return os.environ.get("CRM_AUTH", "").strip().lower() == "none"


def may_open(user: User, page: str) -> bool:
    return user.role == "all" or access.may_open(user.role, page)


@st.cache_resource
def _users(path: str) -> access.UserStore:
    return access.UserStore(path)


@st.cache_resource
def _audit(path: str) -> AuditLog:
    return AuditLog(path, watch=True)


def users() -> access.UserStore:
    return _users(str(access.store_path()))


def audit_log(path: str | None = None) -> AuditLog:
    """The process's audit log (or the one at `path`); raises AuditUnavailable when it cannot be
    opened (e.g. deleted)."""
    path = path or str(audit.store_path())
    try:
        return _audit(path)
    except sqlite3.Error as error:  # not a store SQLite can write
        raise AuditUnavailable(f"The audit log {path} cannot be opened: {error}") from error


def audit_problem() -> str | None:
    """Why the audit log cannot record a view now (for an admin), or None when it can."""
    try:
        return audit_log().health()
    except AuditUnavailable as error:
        return str(error)


def current_user() -> User | None:
    """The signed-in user (the local user in local mode); None when nobody is signed in or the
    session went idle too long (which signs them out). A new Streamlit session (a refresh, a new
    tab, a screen-pop link) signs in from the browser's session cookie while the store says the
    session stands."""
    if local_mode():
        return LOCAL
    user = st.session_state.get(_USER)
    if user is None:
        return _resume_from_cookie()
    if (session_id := st.session_state.get(_SESSION)) is not None:
        return _checked_in_store(user, session_id)
    # Signed in without a session in the store (a page test signs in so): this Streamlit session
    # alone keeps the time.
    now = datetime.now()
    last = st.session_state.get(_LAST_ACTIVE, now)
    if now - last > timedelta(minutes=config.session_idle_minutes()):
        _end(user, access.ENDED_IDLE)
        return None
    role = users().active_role(user.user_name)
    if role is None:  # removed by an admin (or the user store replaced) while signed in
        _end(user, access.ENDED_REMOVED)
        return None
    if role != user.role:
        user = _role_changed(user, role)
    st.session_state[_LAST_ACTIVE] = now
    return user


_ROLE_NOTICE = "role_changed_notice"
ROLE_CHANGED = ("An admin changed your role to {role}. What you were doing was not saved: the page it was on is "
                "not open to this role. The pages you may open are on the left.")


def _role_changed(user: User, role: str) -> User:
    """A new role applies from the next click, and the user is told: the click that met it saved
    nothing (a half-filled wrap-up on a page the role may no longer open is simply gone)."""
    record("session_expired", user=user, reason=f"role changed to {role}")
    st.session_state[_ROLE_NOTICE] = ROLE_CHANGED.format(role=access.ROLE_TITLES.get(role, role))
    changed = st.session_state[_USER] = User(user.user_name, role)
    return changed


_SESSION, _HAND_OVER, _LEAVING = "browser_session_id", "cookie_hand_over", "clear_cookie"
_ENDED_NOTICES = {
    access.ENDED_IDLE: "Your session ended after {minutes:g} minutes without activity. Sign in again.",
    access.ENDED_TOO_OLD: "Your session ended after {hours} hours. Sign in again.",
    access.ENDED_REMOVED: "An admin has removed this account, so the session ended.",
    access.ENDED_NEW_PASSWORD: "An admin gave this account a new password, so the session ended. Sign in with it.",
    access.ENDED_SIGNED_OUT: "You signed out (in this tab or another). Sign in again.",
}
_AUDITED_REASONS = {access.ENDED_REMOVED: "the user was removed", access.ENDED_TOO_OLD: "the session was too old",
                    access.ENDED_NEW_PASSWORD: "the user was given a new password"}


def _checked_in_store(user: User, session_id: str) -> User | None:
    """Each page run asks the store, so a sign-out in another tab, an admin's removal or new
    password, and the idle window shared by every tab of the browser apply at the next click."""
    check = users().check_session(session_id, config.session_idle_minutes())
    if check.user is None:
        # An admin's removal or new password ends the sessions in the store; each tab records
        # the end it meets, as it did before sessions were kept there. A sign-out was recorded by
        # its own tab, and an end found by another tab's check by that tab.
        by_admin = check.ended in (access.ENDED_REMOVED, access.ENDED_NEW_PASSWORD)
        _end(user, check.ended or access.ENDED_SIGNED_OUT, recorded=not (check.ended_now or by_admin))
        return None
    if check.user.role != user.role:
        _role_changed(user, check.user.role)
    st.session_state[_LAST_ACTIVE] = datetime.now()
    return check.user


def _resume_from_cookie() -> User | None:
    """Sign in from the session cookie, recorded once per Streamlit session (a page load) with the
    address it opened; None without a cookie, with one not signed by this installation, or one
    whose session is over (the end recorded once, by whichever page run found it)."""
    session_id = session_token.session_id(_cookie())
    if session_id is None:
        return None
    check = users().check_session(session_id, config.session_idle_minutes())
    if check.user is None:
        if check.ended is not None and check.ended != access.ENDED_SIGNED_OUT:  # say why it asks again
            _end(User(check.user_name, "none"), check.ended, recorded=not check.ended_now)
        return None
    st.session_state[_USER], st.session_state[_SESSION] = check.user, session_id
    st.session_state[_LAST_ACTIVE] = datetime.now()
    record("session_resumed", user=check.user, page=_asked_path(), query=st.query_params.to_dict())
    return check.user


def _cookie() -> str:
    try:
        return st.context.cookies.get(session_token.COOKIE, "") or ""
    except (AttributeError, RuntimeError):  # no browser behind this session (a page test)
        return ""


def _end(user: User, reason: str, *, recorded: bool = False) -> None:
    """Sign this Streamlit session out after its session ended, say why on the sign-in form and,
    unless it was recorded already (a sign-out, an end found by another tab), record it."""
    if not recorded:
        if reason == access.ENDED_IDLE:
            record("session_expired", user=user)
        else:
            record("session_expired", user=user, reason=_AUDITED_REASONS.get(reason, reason))
    _forget()
    notice = _ENDED_NOTICES.get(reason)
    if notice:
        st.session_state[_NOTICE] = notice.format(minutes=config.session_idle_minutes(),
                                                  hours=access.SESSION_MAX_HOURS)


def _forget() -> None:
    for key in (_USER, _LAST_ACTIVE, _SESSION, _HAND_OVER):
        st.session_state.pop(key, None)


def sign_in_form() -> None:
    """The sign-in page: shown instead of any page until someone signs in. It stays open while the
    audit log cannot be written, so that an admin can sign in and see the alert: every audited page
    is closed then, and the sign-in that the log cannot take goes to the server log instead."""
    st.title("Customer 360", anchor=False)
    if st.session_state.pop(_LEAVING, False):  # the cookie's session is over already; this clears the cookie
        _call_in_background(session_token.SIGN_OUT_ROUTE)
    if notice := st.session_state.pop(_NOTICE, None):
        st.info(notice)
    with st.form("sign_in"):
        name = st.text_input("User name", max_chars=100, autocomplete="username")
        password = st.text_input("Password", type="password", max_chars=1_000, autocomplete="current-password")
        if st.form_submit_button("Sign in", type="primary"):
            try:
                user = users().sign_in(name, password)
            except access.AccessError as error:
                _record_failed_sign_in(name)
                st.error(str(error))
            else:
                session_id, ticket = users().start_session(user)
                st.session_state[_USER], st.session_state[_SESSION] = user, session_id
                st.session_state[_LAST_ACTIVE] = datetime.now()
                st.session_state[_HAND_OVER] = ticket
                record("sign_in", user=user)
                st.rerun()
    st.caption("No account yet, or locked out? Ask an admin.")


def _record_failed_sign_in(typed: str) -> None:
    """A known user name is recorded as is; any other text may be a password typed in the wrong
    box, so only its keyed fingerprint is kept (enough to tell repeated attempts apart)."""
    name = typed.strip().lower()[:100]
    if users().active_role(name) is not None:
        record("sign_in_failed", user=User(name, "none"))
        return
    try:
        fingerprint = audit_log().fingerprint(name) if name else None
    except AuditUnavailable as error:
        _LOG.error("a failed sign-in was not recorded: %s", error)
        return
    record("sign_in_failed", user=User("(unknown name)" if name else "(empty)", "none"), typed_fingerprint=fingerprint)


_TARGET = "page_asked_for"


def _asked_path() -> str:
    url = st.context.url or ""
    return urlparse(url).path.rstrip("/").rsplit("/", 1)[-1] if url else ""


def remember_link() -> None:
    """Keep the page and parameters a link asked for (a screen-pop's /customer?phone=...) while
    the person signs in."""
    if _TARGET in st.session_state:
        return
    st.session_state[_TARGET] = (_asked_path(), st.query_params.to_dict())


def follow_link(pages: dict[str, object]) -> None:
    """After sign-in, open the page a link asked for, if this user's role may; and, in the first
    run that goes on to a page, have the browser fetch its session cookie (`/auth/session`), so
    the next page load (a refresh, a new tab, a screen-pop) signs in from it."""
    path, params = st.session_state.pop(_TARGET, ("", {}))
    if path and path in pages:
        st.switch_page(pages[path], query_params=params)  # the cookie is fetched in the run it starts
    if (ticket := st.session_state.pop(_HAND_OVER, None)) is not None:
        with st.sidebar:  # not in the page's own layout
            _call_in_background(session_token.hand_over_url(ticket))


def _call_in_background(url: str) -> None:
    """Have the browser call a route of this site that sets or clears the cookie, without leaving
    the page: only an HTTP response can make a cookie that no script can read. Without scripts,
    this tab stays signed in (or out) by itself; only other page loads do not follow."""
    script = (f"<script>fetch({json.dumps(url)}, {{credentials: 'same-origin', cache: 'no-store'}})"
              ".catch(() => {});</script>")
    st.html(script, unsafe_allow_javascript=True)


def sign_out() -> None:
    user = st.session_state.get(_USER)
    if (session_id := st.session_state.get(_SESSION)) is not None:
        users().end_session(session_id)  # every tab and any copy of the cookie are signed out with it
    if user is not None:
        record("sign_out", user=user)
    _forget()
    st.session_state[_LEAVING] = True


def user_bar(user: User) -> None:
    """Who is signed in, on every page (each page's `require` draws it); in local mode, that
    there is no sign-in."""
    if user is LOCAL:
        st.warning("Local mode: no sign-in and every page open to whoever reaches this app (CRM_AUTH=none). "
                   "For a laptop or a test only.", icon=":material/lock_open:")
        return
    if notice := st.session_state.pop(_ROLE_NOTICE, None):
        st.warning(notice, icon=":material/badge:")
    with st.sidebar:
        st.caption(f"Signed in as {user.title}")
        if st.button("Sign out", icon=":material/logout:"):
            sign_out()
            st.rerun()


def require(page: str) -> User:
    """The user, if their role may open this page; otherwise the page stops with a refusal."""
    user = current_user()
    if user is None:
        st.error("Sign in to see this page.")
        st.stop()
    if not may_open(user, page):
        st.error(f"Your role ({access.ROLE_TITLES.get(user.role, user.role)}) may not open this page.",
                 icon=":material/block:")
        st.stop()
    user_bar(user)
    _close_without_audit(user, page)
    return user


def _close_without_audit(user: User, page: str) -> None:
    """Fail closed: an audited page is not served while the audit log is missing, unwritable or
    tampered with; admins see why on every page, and the server log says it too."""
    if page not in AUDITED_PAGES and user.role not in ("admin", "all"):
        return
    problem = audit_problem()
    if problem is None:
        return
    from crm360.ui import plain  # here: crm360.ui imports this module

    _LOG.error("audit log unavailable: %s", problem)
    if user.role in ("admin", "all"):
        st.error(f"Audit log alert: {plain(problem)}", icon=":material/gpp_bad:")
    if page in AUDITED_PAGES:
        st.warning(AUDIT_CLOSED, icon=":material/lock:")
        st.stop()


# Audit entries are written by one background thread, in the order they were made: a lookup does
# not wait for the write (measured 4.5 ms with 20 customer numbers, 14 ms with a thousand);
# `require` checked first, in microseconds, that the log can take it. An entry that fails is kept
# and the next view is refused.
def record(action: str, *, user: User | None = None, page: str = "", **details: object) -> None:
    """Queue an audit entry for the signed-in user (or the one given). The page's `require` has
    checked them this run; asking the store again for every entry would only repeat it."""
    user = user or (LOCAL if local_mode() else st.session_state.get(_USER)) or User("(nobody)", "none")
    try:
        log = audit_log()
    except AuditUnavailable as error:
        _LOG.error("audit entry not written (%s by %s on %s): %s", action, user.user_name, page or "-", error)
        return
    log.submit(user.user_name, user.role, action, page=page, at=clock.wall(), **details)


def flush_audit() -> None:
    """Wait until every queued audit entry is written (the audit page, tests)."""
    audit.flush()


def record_when_changed(slot: str, value: object, action: str, **details: object) -> None:
    """Write an audit entry when what the user looks at changes: a profile redrawn because a tab
    was switched is not a new look, the same profile opened again after another one is."""
    seen = st.session_state.setdefault("audited", {})
    if seen.get(slot, _UNSEEN) != value:
        seen[slot] = value
        record(action, **details)


_UNSEEN = object()


def export_stamp(user: User) -> tuple[str, str]:
    """Who exported and when, as written into every exported file."""
    return user.title, clock.wall().isoformat(timespec="seconds")


@dataclass(frozen=True)
class _Exporter:
    """Who is exporting and the stores that judge and record it, taken while the button is drawn:
    the file itself is built later, on the click, outside the session (no session state there)."""
    user: User
    audit_path: str
    users_path: str

    def check_allowed(self) -> None:
        """Refuse a click after an admin removed the user or changed their role since the button was
        drawn: the click builds the file, and the click is what must be allowed."""
        user = self.user
        if user is not LOCAL and _users(self.users_path).active_role(user.user_name) != user.role:
            raise access.AccessError(f"{user.user_name} was removed or given another role since this page was "
                                     "drawn: no file is made. Reload the page.")

    def record(self, page: str, **options: object) -> tuple[str, str]:
        """Write the export's audit entry before any byte leaves (refused while the log is
        unhealthy); returns the file's stamp."""
        log = audit_log(self.audit_path)
        if (problem := log.health()) is not None:
            raise AuditUnavailable(problem)
        log.record(self.user.user_name, self.user.role, "export", page=page, **options)
        return export_stamp(self.user)


def _exporter() -> _Exporter:
    user = current_user()
    if user is None:
        st.stop()
    return _Exporter(user, str(audit.store_path()), str(access.store_path()))


def export_file(page: str, build: Callable[[], pl.DataFrame], file_format: str = "csv",
                **filters: object) -> Callable[[], bytes]:
    """A download's contents, built when clicked: the rows, stamped with who exported them and
    when, and an audit entry naming the customers in it (or how many) and the filter used."""
    exporter = _exporter()

    def make() -> bytes:
        exporter.check_allowed()
        frame = build()
        ids = frame["customer_id"].drop_nulls().to_list() if "customer_id" in frame.columns else []
        stamp = exporter.record(page, customer_ids=ids, customers=len(set(ids)), rows=frame.height,
                                format=file_format, **filters)
        return export.to_csv(frame, stamp) if file_format == "csv" else export.to_xlsx(frame, stamp=stamp)
    return make


def exported_summary(page: str, build: Callable[[tuple[str, str]], bytes], **filters: object) -> Callable[[], bytes]:
    """A printable summary's contents, built when clicked, stamped and recorded like a list."""
    exporter = _exporter()

    def make() -> bytes:
        exporter.check_allowed()
        return build(exporter.record(page, rows=0, format="html", **filters))
    return make
