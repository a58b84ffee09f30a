"""Sign-in, the signed-in user and the audit trail, as the pages use them (Streamlit glue).

`CRM_AUTH=none` switches sign-in off for a laptop or a test: one local user with every role,
and every page says so. Otherwise dashboard.py asks for a user name and password before it
shows any page, the navigation lists only the pages of the user's role, and each page checks
the role itself (`require`), so a typed URL or a deep link does not get round it. A session
ends after `config.SESSION_IDLE_MINUTES` without activity.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from urllib.parse import urlparse

import polars as pl
import streamlit as st

from crm360 import access, audit, config, export
from crm360.access import User
from crm360.audit import AuditLog

LOCAL = User("local", "all")
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
    return AuditLog(path)


def users() -> access.UserStore:
    return _users(str(access.store_path()))


def audit_log() -> AuditLog:
    return _audit(str(audit.store_path()))


def current_user() -> User | None:
    """The signed-in user (the local user in local mode); None when nobody is signed in or the
    session went idle too long (which signs them out)."""
    if local_mode():
        return LOCAL
    user = st.session_state.get(_USER)
    if user is None:
        return None
    now = datetime.now()
    last = st.session_state.get(_LAST_ACTIVE, now)
    if now - last > timedelta(minutes=config.session_idle_minutes()):
        record("session_expired", user=user)
        _forget()
        st.session_state[_NOTICE] = (f"Your session ended after {config.session_idle_minutes()} minutes without "
                                     "activity. Sign in again.")
        return None
    st.session_state[_LAST_ACTIVE] = now
    return user


def _forget() -> None:
    for key in (_USER, _LAST_ACTIVE):
        st.session_state.pop(key, None)


def sign_in_form() -> None:
    """The sign-in page: shown instead of any page until someone signs in."""
    st.title("Customer 360", anchor=False)
    if notice := st.session_state.pop(_NOTICE, None):
        st.info(notice)
    with st.form("sign_in"):
        name = st.text_input("User name", max_chars=100, autocomplete="username")
        password = st.text_input("Password", type="password", max_chars=1_000, autocomplete="current-password")
        if st.form_submit_button("Sign in", type="primary"):
            try:
                user = users().sign_in(name, password)
            except access.AccessError as error:
                record("sign_in_failed", user=User(name.strip().lower()[:100] or "(empty)", "none"))
                st.error(str(error))
            else:
                st.session_state[_USER] = user
                st.session_state[_LAST_ACTIVE] = datetime.now()
                record("sign_in", user=user)
                st.rerun()
    st.caption("Ask an admin for an account (`python -m crm360 users add NAME --role ROLE`).")


_TARGET = "page_asked_for"


def remember_link() -> None:
    """Keep the page and parameters a link asked for (a screen-pop's /customer?phone=...) while
    the person signs in."""
    if _TARGET in st.session_state:
        return
    url = st.context.url or ""
    path = urlparse(url).path.rstrip("/").rsplit("/", 1)[-1] if url else ""
    st.session_state[_TARGET] = (path, st.query_params.to_dict())


def follow_link(pages: dict[str, object]) -> None:
    """After sign-in, open the page a link asked for, if this user's role may."""
    path, params = st.session_state.pop(_TARGET, ("", {}))
    if path and path in pages:
        st.switch_page(pages[path], query_params=params)


def sign_out() -> None:
    user = st.session_state.get(_USER)
    if user is not None:
        record("sign_out", user=user)
    _forget()


def user_bar(user: User) -> None:
    """Who is signed in, on every page (each page's `require` draws it); in local mode, that
    there is no sign-in."""
    if user is LOCAL:
        st.warning("Local mode: no sign-in and every page open to whoever reaches this app (CRM_AUTH=none). "
                   "For a laptop or a test only.", icon=":material/lock_open:")
        return
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
    return user


# Audit entries are written by one background thread, in the order they were made: a lookup does
# not wait for the write (about 5 ms with a thousand customer numbers), and the interpreter's exit
# waits for what is queued.
_AUDIT_WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-writer")
_PENDING: list[Future] = []


def record(action: str, *, user: User | None = None, page: str = "", **details: object) -> None:
    """Write an audit entry for the signed-in user (or the one given)."""
    user = user or current_user() or User("(nobody)", "none")
    moment = datetime.now()
    log = audit_log()
    _PENDING.append(_AUDIT_WRITER.submit(log.record, user.user_name, user.role, action, page=page, at=moment,
                                         **details))
    _PENDING[:] = [future for future in _PENDING if not future.done()]


def flush_audit() -> None:
    """Wait until every queued audit entry is written (the audit page, tests)."""
    for future in list(_PENDING):
        future.result()


def record_when_changed(slot: str, value: object, action: str, **details: object) -> None:
    """Write an audit entry when what the user looks at changes: a profile redrawn because a tab
    was switched is not a new look, the same profile opened again after another one is."""
    seen = st.session_state.setdefault("audited", {})
    if seen.get(slot, _UNSEEN) != value:
        seen[slot] = value
        record(action, **details)


_UNSEEN = object()


def export_stamp(user: User | None = None) -> tuple[str, str]:
    """Who exported and when, as written into every exported file."""
    user = user or current_user() or LOCAL
    return user.title, datetime.now().isoformat(timespec="seconds")


def export_file(page: str, build: Callable[[], pl.DataFrame], file_format: str = "csv",
                **filters: object) -> Callable[[], bytes]:
    """A download's contents, built when clicked: the rows, stamped with who exported them and
    when, and an audit entry naming the customers in it (or how many) and the filter used."""
    def make() -> bytes:
        frame = build()
        ids = frame["customer_id"].drop_nulls().to_list() if "customer_id" in frame.columns else []
        record("export", page=page, customer_ids=ids, customers=len(set(ids)), rows=frame.height,
               format=file_format, **filters)
        stamp = export_stamp()
        return export.to_csv(frame, stamp) if file_format == "csv" else export.to_xlsx(frame, stamp=stamp)
    return make


def exported_summary(page: str, build: Callable[[tuple[str, str]], bytes], **filters: object) -> Callable[[], bytes]:
    """A printable summary's contents, built when clicked, stamped and recorded like a list."""
    def make() -> bytes:
        record("export", page=page, rows=0, format="html", **filters)
        return build(export_stamp())
    return make
