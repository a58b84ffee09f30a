"""The sign-in cookie: sessions the server can end, one-time tickets, the signed token, the routes
that set and clear the cookie, the security headers, and the page run that signs in from it."""
from __future__ import annotations

import asyncio
import os
import stat
import threading
from datetime import datetime, timedelta
from http.cookies import SimpleCookie

import pytest
from starlette.requests import Request
from streamlit.testing.v1 import AppTest

from crm360 import access, session_token
from crm360.access import User, UserStore
from crm360.audit import AuditLog
from crm360.security_headers import SecurityHeaders

PASSWORD = "correct horse battery staple"
T0 = datetime(2026, 6, 30, 9, 0)


@pytest.fixture
def store() -> UserStore:
    users = UserStore()  # CRM_USERS: a folder of this test's own (tests/conftest.py)
    users.add("ayse", "agent", PASSWORD)
    users.add("mehmet", "marketing", PASSWORD)
    users.add("root", "admin", PASSWORD)
    return users


def _session(store: UserStore, name: str = "ayse", role: str = "agent", at: datetime = T0) -> str:
    session_id, ticket = store.start_session(User(name, role), at)
    assert store.redeem_ticket(ticket, at) == session_id
    return session_id


# --- sessions in the store -------------------------------------------------------------------

def test_a_session_slides_with_activity_and_ends_after_the_idle_window(store):
    session_id = _session(store)
    for minutes in (10, 35, 60):  # each check within 30 minutes of the one before
        assert store.check_session(session_id, 30, T0 + timedelta(minutes=minutes)).user == User("ayse", "agent")
    ended = store.check_session(session_id, 30, T0 + timedelta(minutes=91))
    assert (ended.user, ended.ended, ended.ended_now, ended.user_name) == (None, access.ENDED_IDLE, True, "ayse")
    again = store.check_session(session_id, 30, T0 + timedelta(minutes=92))  # over for good, recorded once
    assert (again.user, again.ended, again.ended_now) == (None, access.ENDED_IDLE, False)


def test_the_idle_window_is_the_configured_one(store):
    session_id = _session(store)
    assert store.check_session(session_id, 2, T0 + timedelta(minutes=3)).ended == access.ENDED_IDLE


def test_a_session_ends_after_a_working_day_however_active(store):
    session_id = _session(store)
    now, check = T0, None
    while check is None or check.user is not None:
        now += timedelta(minutes=20)
        check = store.check_session(session_id, 30, now)
    assert check.ended == access.ENDED_TOO_OLD
    assert timedelta(hours=access.SESSION_MAX_HOURS) < now - T0 <= timedelta(hours=access.SESSION_MAX_HOURS, minutes=20)


def test_signing_out_ends_the_session_for_every_copy_of_the_cookie(store):
    session_id = _session(store)
    assert store.end_session(session_id, now=T0 + timedelta(minutes=1)) == "ayse"
    assert store.end_session(session_id) is None  # once
    check = store.check_session(session_id, 30, T0 + timedelta(minutes=2))
    assert (check.user, check.ended, check.ended_now) == (None, access.ENDED_SIGNED_OUT, False)


def test_an_admin_removing_a_user_or_giving_a_new_password_ends_their_sessions(store):
    first, second, other = _session(store), _session(store), _session(store, "mehmet", "marketing")
    store.remove("ayse")
    for session_id in (first, second):
        assert store.check_session(session_id, 30, T0 + timedelta(minutes=1)).ended == access.ENDED_REMOVED
    store.restore("ayse", PASSWORD)  # coming back does not bring the old sessions back
    assert store.check_session(first, 30, T0 + timedelta(minutes=2)).user is None
    assert store.check_session(other, 30, T0 + timedelta(minutes=2)).user == User("mehmet", "marketing")
    store.set_password("mehmet", "another long password")
    assert store.check_session(other, 30, T0 + timedelta(minutes=3)).ended == access.ENDED_NEW_PASSWORD


def test_a_role_changed_by_an_admin_applies_to_the_session_at_once(store):
    session_id = _session(store)
    store.set_role("ayse", "service_lead")
    assert store.check_session(session_id, 30, T0 + timedelta(minutes=1)).user == User("ayse", "service_lead")


def test_a_ticket_is_spent_once_and_lasts_seconds(store):
    session_id, ticket = store.start_session(User("ayse", "agent"), T0)
    late = T0 + timedelta(seconds=access.TICKET_SECONDS + 1)
    assert store.redeem_ticket(ticket, late) is None           # too old
    assert store.redeem_ticket(ticket, T0) is None             # and spent by that attempt
    session_id, ticket = store.start_session(User("ayse", "agent"), T0)
    assert store.redeem_ticket(ticket, T0 + timedelta(seconds=2)) == session_id
    assert store.redeem_ticket(ticket, T0 + timedelta(seconds=3)) is None  # reused
    for forged in ("", "x", ticket[:-1], "' OR 1=1 --", "<script>", "9" * 100_000):
        assert store.redeem_ticket(forged, T0) is None


def test_a_ticket_of_a_session_already_over_opens_nothing(store):
    session_id, ticket = store.start_session(User("ayse", "agent"), T0)
    store.end_session(session_id)
    assert store.redeem_ticket(ticket, T0) is None


def test_two_redemptions_at_once_get_one_session(store):
    _, ticket = store.start_session(User("ayse", "agent"))
    results, start = [], threading.Barrier(8)

    def redeem() -> None:
        start.wait()
        results.append(store.redeem_ticket(ticket))
    threads = [threading.Thread(target=redeem) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result is not None for result in results) == 1


def test_the_store_keeps_only_a_hash_of_the_ticket(store):
    import sqlite3

    _, ticket = store.start_session(User("ayse", "agent"))
    with sqlite3.connect(store.path) as con:
        kept = con.execute("SELECT ticket_hash FROM sessions").fetchone()[0]
    assert ticket not in kept and ticket not in store.path.read_bytes().decode("latin-1")


# --- the signed token ------------------------------------------------------------------------

def test_a_token_names_its_session_and_nothing_else(store):
    session_id = _session(store)
    token = session_token.sign(session_id)
    assert session_token.session_id(token) == session_id
    assert PASSWORD not in token and "ayse" not in token and "agent" not in token


def test_a_changed_byte_or_another_key_makes_the_token_worthless(store, tmp_path):
    session_id = _session(store)
    token = session_token.sign(session_id)
    for position in range(len(token)):
        changed = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1:]
        assert session_token.session_id(changed) is None, position
    elsewhere = session_token.sign(session_id, tmp_path / "other" / "users.sqlite")  # another installation's key
    assert session_token.session_id(elsewhere) is None
    for junk in ("", "abc", "<script>alert(1)</script>", "'; DROP TABLE sessions; --", "é" * 100_000):
        assert session_token.session_id(junk) is None


def test_the_key_is_made_once_readable_by_its_owner_only(store):
    path = session_token.key_path()
    assert not path.exists()
    tokens = []
    threads = [threading.Thread(target=lambda: tokens.append(session_token.sign("s"))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and len(path.read_bytes()) == 32
    assert {session_token.session_id(token) for token in tokens} == {"s"}  # every thread used the same key
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []  # no draft left behind
    path.write_bytes(b"short")
    with pytest.raises(ValueError, match="not a session key"):
        session_token.sign("s")


def test_another_users_token_never_yields_them(store):
    ayse, mehmet = _session(store), _session(store, "mehmet", "marketing")
    for session_id, expected in ((ayse, User("ayse", "agent")), (mehmet, User("mehmet", "marketing"))):
        found = session_token.session_id(session_token.sign(session_id))
        assert store.check_session(found, 30, T0 + timedelta(minutes=1)).user == expected
    store.remove("mehmet")
    found = session_token.session_id(session_token.sign(mehmet))
    assert store.check_session(found, 30, T0 + timedelta(minutes=2)).user is None
    assert store.check_session("not-a-session", 30).user is None


@pytest.mark.parametrize("asked", [
    "https://evil.example/", "//evil.example/customer", "///evil.example", "/\\evil.example", "\\\\evil.example",
    "http:/evil.example", "javascript:alert(1)", "/\t/evil.example", "/\n/evil.example", " //evil.example",
    "evil.example", "customer", "", None, "/" + "a" * 5_000, "data:text/html,<script>alert(1)</script>",
])
def test_the_hand_over_returns_to_this_site_only(asked):
    assert session_token.local_path(asked) == "/"


@pytest.mark.parametrize("asked", ["/", "/customer?phone=05321234567", "/customer?customer=1000042",
                                   "/trends?from=2026-01-01&to=2026-06-30"])
def test_the_hand_over_keeps_a_local_page_and_its_query(asked):
    assert session_token.local_path(asked) == asked


# --- the routes ------------------------------------------------------------------------------

def _request(path: str, *, cookie: str = "", scheme: str = "http", forwarded: str = "") -> Request:
    raw_path, _, query = path.partition("?")
    headers = [(b"host", b"crm.example")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if forwarded:
        headers.append((b"x-forwarded-proto", forwarded.encode()))
    return Request({"type": "http", "method": "GET", "scheme": scheme, "path": raw_path, "raw_path": raw_path.encode(),
                    "query_string": query.encode(), "headers": headers, "server": ("crm.example", 80)})


def _set_cookie(response) -> dict[str, str] | None:
    headers = [v for k, v in response.raw_headers if k == b"set-cookie"]
    if not headers:
        return None
    [header] = headers
    parsed = SimpleCookie(header.decode())[session_token.COOKIE]
    flags = {part.strip().split("=")[0].lower() for part in header.decode().split(";")}
    return {"value": parsed.value, "path": parsed["path"], "samesite": parsed["samesite"],
            "httponly": "httponly" in flags, "secure": "secure" in flags, "max-age": parsed["max-age"]}


def test_the_ticket_route_sets_an_httponly_strict_cookie_and_returns_to_the_page(store):
    session_id, ticket = store.start_session(User("ayse", "agent"))
    response = session_token.start_cookie(_request(session_token.hand_over_url(ticket, "/customer?phone=05321234567")))
    assert response.status_code == 303 and response.headers["location"] == "/customer?phone=05321234567"
    assert response.headers["cache-control"] == "no-store"
    cookie = _set_cookie(response)
    assert cookie["httponly"] and cookie["samesite"] == "strict" and cookie["path"] == "/"
    assert not cookie["secure"] and not cookie["max-age"]  # plain HTTP here; gone when the browser closes
    assert session_token.session_id(cookie["value"]) == session_id
    again = session_token.start_cookie(_request(session_token.hand_over_url(ticket, "/customer")))
    assert _set_cookie(again) is None and again.headers["location"] == "/customer"  # the page asks for the password


def test_the_pages_background_call_gets_the_cookie_and_no_page(store):
    session_id, ticket = store.start_session(User("ayse", "agent"))
    response = session_token.start_cookie(_request(session_token.hand_over_url(ticket)))
    assert response.status_code == 204 and "location" not in response.headers
    assert session_token.session_id(_set_cookie(response)["value"]) == session_id


@pytest.mark.parametrize(("scheme", "forwarded"), [("https", ""), ("http", "https"), ("http", "https, http")])
def test_the_cookie_is_secure_over_https_direct_or_behind_a_proxy(store, scheme, forwarded):
    _, ticket = store.start_session(User("ayse", "agent"))
    response = session_token.start_cookie(_request(session_token.hand_over_url(ticket, "/"), scheme=scheme,
                                                   forwarded=forwarded))
    assert _set_cookie(response)["secure"]


def test_the_ticket_route_refuses_to_send_the_browser_elsewhere(store):
    _, ticket = store.start_session(User("ayse", "agent"))
    response = session_token.start_cookie(_request(f"/auth/session?ticket={ticket}&next=//evil.example/x"))
    assert response.headers["location"] == "/"


def test_an_expired_ticket_sets_no_cookie(store):
    made = datetime.now() - timedelta(seconds=access.TICKET_SECONDS + 5)
    _, ticket = store.start_session(User("ayse", "agent"), made)
    assert _set_cookie(session_token.start_cookie(_request(session_token.hand_over_url(ticket, "/")))) is None


def test_the_sign_out_route_ends_the_session_and_clears_the_cookie(store):
    session_id = _session(store, at=datetime.now())
    token = session_token.sign(session_id)
    response = session_token.clear_cookie(_request("/auth/sign-out", cookie=f"{session_token.COOKIE}={token}"))
    assert response.status_code == 303 and response.headers["location"] == "/"
    cleared = _set_cookie(response)
    assert cleared["value"] == "" and cleared["max-age"] == "0"
    assert store.check_session(session_id, 30).ended == access.ENDED_SIGNED_OUT
    [entry] = AuditLog().search(action="sign_out")
    assert (entry.user_name, entry.page) == ("ayse", "auth/sign-out")
    session_token.clear_cookie(_request("/auth/sign-out", cookie=f"{session_token.COOKIE}={token}"))  # replayed
    assert len(AuditLog().search(action="sign_out")) == 1


# --- security headers ------------------------------------------------------------------------

def _headers_for(path: str, content_type: str, existing: list[tuple[bytes, bytes]] = ()) -> dict[str, str]:
    sent = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", content_type.encode()), *existing]})
        await send({"type": "http.response.body", "body": b""})

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request"}
    asyncio.run(SecurityHeaders(app)({"type": "http", "path": path, "headers": []}, receive, send))
    return {k.decode().lower(): v.decode() for k, v in sent[0]["headers"]}


def test_pages_cannot_be_framed_by_other_sites_and_addresses_stay_here():
    page = _headers_for("/customer", "text/html; charset=utf-8")
    assert page["x-frame-options"] == "DENY" and page["content-security-policy"] == "frame-ancestors 'none'"
    assert page["referrer-policy"] == "same-origin"
    data = _headers_for("/_stcore/health", "text/plain")
    assert data["referrer-policy"] == "same-origin" and "x-frame-options" not in data
    component = _headers_for("/component/x/index.html", "text/html")  # the app's own frames
    assert component["x-frame-options"] == "SAMEORIGIN"
    assert component["content-security-policy"] == "frame-ancestors 'self'"
    kept = _headers_for("/", "text/html", [(b"content-security-policy", b"default-src 'self'")])
    assert kept["content-security-policy"] == "default-src 'self'; frame-ancestors 'none'"


def _websocket(origin: str | None, host: str = "localhost:8501") -> list[str]:
    """What the middleware does with a live-connection request: what reached the app, or its close."""
    seen: list[str] = []

    async def app(scope, receive, send):
        seen.append("reached the app")

    async def send(message):
        seen.append(f"{message['type']} {message.get('code')}")

    async def receive():
        return {"type": "websocket.connect"}
    headers = [(b"host", host.encode())] + ([(b"origin", origin.encode())] if origin else [])
    asyncio.run(SecurityHeaders(app)({"type": "websocket", "path": "/_stcore/stream", "headers": headers},
                                     receive, send))
    return seen


def test_the_live_connection_is_refused_to_pages_of_another_port_or_site():
    """Streamlit itself allows any localhost origin, and SameSite does not tell ports apart: another
    local web server's page could otherwise drive a signed-in agent's session."""
    assert _websocket("http://localhost:8501") == ["reached the app"]
    assert _websocket("http://LOCALHOST:8501") == ["reached the app"]
    assert _websocket(None) == ["reached the app"]  # not a browser: it carries no cookie either
    for other in ("http://localhost:9000", "http://127.0.0.1:8501", "http://evil.example", "null"):
        assert _websocket(other) == ["websocket.close 1008"], other


# --- a page run signs in from the cookie ------------------------------------------------------

SCRIPT = """
import streamlit as st
from crm360 import session
user = session.require("customer")
st.success(f"shown to {user.user_name}")
"""


@pytest.fixture
def page_with_cookie(store, monkeypatch):
    """A page run whose browser sends the cookie made here (AppTest has no browser to send it)."""
    from crm360 import session

    monkeypatch.delenv("CRM_AUTH", raising=False)
    cookie = {"value": ""}
    monkeypatch.setattr(session, "_cookie", lambda: cookie["value"])

    def make(session_id: str) -> AppTest:
        cookie["value"] = session_token.sign(session_id)
        return AppTest.from_string(SCRIPT, default_timeout=30)
    return make


def _audit() -> AuditLog:
    from crm360 import session

    session.flush_audit()
    return AuditLog()


def test_a_new_page_load_signs_in_from_the_cookie_recorded_once(store, page_with_cookie):
    app = page_with_cookie(_session(store, at=datetime.now()))
    app.query_params["customer"] = "1000042"
    app.run()
    assert [s.value for s in app.success] == ["shown to ayse"] and not app.exception
    app.run()
    app.run()  # reruns of the same page load are not new sign-ins
    [resumed] = _audit().search(action="session_resumed")
    assert resumed.user_name == "ayse" and resumed.detail["query"] == {"customer": "1000042"}


def test_no_cookie_a_forged_one_or_another_role_opens_nothing(store, page_with_cookie, monkeypatch):
    from crm360 import session

    app = page_with_cookie(_session(store, "mehmet", "marketing", datetime.now()))
    app.run()
    assert not app.success and any("may not open this page" in e.value for e in app.error)
    for forged in ("", "x", session_token.sign(_session(store, at=datetime.now()))[:-2] + "xx"):
        monkeypatch.setattr(session, "_cookie", lambda forged=forged: forged)
        other = AppTest.from_string(SCRIPT, default_timeout=30)
        other.run()
        assert not other.success and any("Sign in to see this page" in e.value for e in other.error)


def test_an_idle_session_asks_again_and_records_the_expiry_once(store, page_with_cookie, monkeypatch):
    monkeypatch.setenv("CRM_SESSION_IDLE_MINUTES", "30")
    session_id = _session(store, at=datetime.now() - timedelta(minutes=31))
    for _ in range(2):
        app = page_with_cookie(session_id)
        app.run()
        assert not app.success and any("Sign in to see this page" in e.value for e in app.error)
    [expired] = _audit().search(action="session_expired")
    assert expired.user_name == "ayse" and not _audit().search(action="session_resumed")


def test_sign_out_in_one_tab_signs_out_the_other_at_its_next_click(store, page_with_cookie):
    session_id = _session(store, at=datetime.now())
    first, second = page_with_cookie(session_id), page_with_cookie(session_id)
    first.run()
    second.run()
    [sign_out] = [b for b in first.button if b.label == "Sign out"]
    sign_out.click().run()
    assert not first.success
    second.run()
    assert not second.success and any("Sign in to see this page" in e.value for e in second.error)
    assert store.check_session(session_id, 30).ended == access.ENDED_SIGNED_OUT
    assert [e.action for e in _audit().search(user_name="ayse")] == ["sign_out", "session_resumed", "session_resumed"]
    replayed = page_with_cookie(session_id)  # the same cookie, kept and sent again
    replayed.run()
    assert not replayed.success


def test_a_user_removed_while_signed_in_is_out_at_the_next_click(store, page_with_cookie):
    session_id = _session(store, at=datetime.now())
    app = page_with_cookie(session_id)
    app.run()
    assert app.success
    store.set_role("ayse", "marketing")
    app.run()
    assert not app.success and any("may not open this page" in e.value for e in app.error)
    store.remove("ayse")
    app.run()
    assert not app.success and any("Sign in to see this page" in e.value for e in app.error)
    reasons = [e.detail.get("reason") for e in _audit().search(action="session_expired")]
    assert reasons == ["the user was removed", "role changed to marketing"]
