"""The browser's sign-in cookie, and the two HTTP routes that set and clear it (server.py serves them).

A refresh, a new tab or a telephony screen-pop starts a new Streamlit session, which knows nobody;
the cookie carries the sign-in across them for the idle window:

1. The sign-in form checks the password (Streamlit) and the user store starts a session: a row
   that the server can end (crm360/access.py) and a one-time ticket valid for seconds.
2. The page has the browser fetch `/auth/session?ticket=...` in the background (the tab itself is
   signed in already). The route spends the ticket and sets the cookie (HttpOnly, SameSite=Strict,
   Path=/, Secure over HTTPS): only an HTTP response can make a cookie that page scripts cannot
   read, hence the call. Given `next` (a path of this site only), it redirects there, so a plain
   link with a ticket works too.
3. Every page run reads the cookie (`st.context.cookies`, sent with the page's own connection),
   checks its signature, and asks the store whether the session still stands (not signed out,
   active within the idle window, its user still active); the store answers with the user's role
   today.

The cookie's value is the session id signed with itsdangerous (HMAC-SHA1 key derivation and
signature, with a timestamp) under a random key kept 0600 beside the user store: no password, no
role, nothing a person could change without the key. Deleting the key file signs everybody out.
"""
from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sqlite3
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from crm360 import access
from crm360.private_files import private_folder

COOKIE = "crm360_session"
SESSION_ROUTE, SIGN_OUT_ROUTE = "/auth/session", "/auth/sign-out"
_SALT = "crm360.session-cookie"  # this key signs nothing else, but a salt keeps the cookie's signature its own
_KEY_BYTES = 32
_MAX_TOKEN_CHARS = 500   # a signed session id is about 100; anything longer is not ours
_MAX_NEXT_CHARS = 4_000  # a screen-pop link with its parameters fits many times over
_LOG = logging.getLogger(__name__)


def key_path(users_store: Path | None = None) -> Path:
    """The signing key beside the user store (users.sqlite.session-key)."""
    store = Path(users_store or access.store_path())
    return store.with_name(store.name + ".session-key")


def _key(path: Path) -> bytes:
    """The key, made (0600, 32 random bytes) the first time it is needed. Written to a file of its
    own and linked into place, so a second process starting at the same moment reads the whole
    key, never a half-written one."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        private_folder(path.parent)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as out:
                out.write(secrets.token_bytes(_KEY_BYTES))
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):  # another process made it first: theirs is the key
                os.link(draft, path)
        finally:
            draft.unlink(missing_ok=True)
        key = path.read_bytes()
    if len(key) < _KEY_BYTES:
        raise ValueError(f"{path} is not a session key ({len(key)} bytes): remove it and a new one is made "
                         "(everybody signs in again)")
    return key


def _serializer(users_store: Path | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(_key(key_path(users_store)), salt=_SALT)


def sign(session_id: str, users_store: Path | None = None) -> str:
    """The cookie's value for a session."""
    return _serializer(users_store).dumps(session_id)


def session_id(token: str, users_store: Path | None = None) -> str | None:
    """The session id a cookie names, if its signature is this installation's and it is younger
    than a session may live; None for anything else (changed, made with another key, too old)."""
    if not token or len(token) > _MAX_TOKEN_CHARS:
        return None
    try:
        value = _serializer(users_store).loads(token, max_age=access.SESSION_MAX_HOURS * 3600)
    except BadData:
        return None
    return value if isinstance(value, str) else None


def local_path(asked: str | None) -> str:
    """`asked` if it is a path of this site (with its query), else "/": a link cannot use the
    sign-in to send the browser elsewhere (`//evil.example`, `https://...`, `/\\evil`, a tab or
    newline a browser would drop)."""
    if (not asked or len(asked) > _MAX_NEXT_CHARS or not asked.startswith("/") or asked.startswith("//")
            or any(c.isspace() or not c.isprintable() or c == "\\" for c in asked)):
        return "/"
    parts = urlsplit(asked)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return "/"
    return urlunsplit(("", "", parts.path, parts.query, ""))


def hand_over_url(ticket: str, next_path: str | None = None) -> str:
    """The address that exchanges a ticket for the cookie (and then goes to `next_path`, if given)."""
    query = {"ticket": ticket} if next_path is None else {"ticket": ticket, "next": local_path(next_path)}
    return f"{SESSION_ROUTE}?{urlencode(query)}"


def _over_https(request: Request) -> bool:
    """Served over HTTPS, directly or behind a proxy that says so (X-Forwarded-Proto). A forged
    header can only add Secure, which keeps the cookie off plain HTTP: no harm."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def start_cookie(request: Request) -> Response:
    """`/auth/session?ticket=...[&next=...]`: spend the ticket, set the cookie; then go to `next`
    if given (a page of this site), else answer 204 (the page's background call). A spent,
    expired or unknown ticket sets nothing: the next page load asks for the password."""
    asked = request.query_params.get("next")
    ticket = request.query_params.get("ticket", "")
    store = access.UserStore()
    found = store.redeem_ticket(ticket) if 0 < len(ticket) <= 100 else None
    response = _no_store(RedirectResponse(local_path(asked), status_code=303) if asked is not None
                         else Response(status_code=204))
    if found is None:
        _LOG.warning("a sign-in ticket was refused (unknown, used already or older than %d s)", access.TICKET_SECONDS)
        return response
    response.set_cookie(COOKIE, sign(found), path="/", httponly=True, samesite="strict", secure=_over_https(request))
    return response


def clear_cookie(request: Request) -> Response:
    """`/auth/sign-out`: end the session the cookie names (the Sign out button has, and recorded it;
    this covers a visit to the address itself), clear the cookie, go to the start page."""
    if (found := session_id(request.cookies.get(COOKIE, ""))) is not None:
        store = access.UserStore()
        if (user_name := store.end_session(found)) is not None:
            _record_sign_out(user_name, store.active_role(user_name) or "none")
    response = _no_store(RedirectResponse("/", status_code=303))
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=_over_https(request))
    return response


def _record_sign_out(user_name: str, role: str) -> None:
    from crm360 import audit  # here: the audit log is opened only for this rare case

    try:
        audit.AuditLog().record(user_name, role, "sign_out", page="auth/sign-out")
    except (audit.AuditUnavailable, OSError, sqlite3.Error) as error:
        _LOG.error("a sign-out at %s was not recorded: %s", SIGN_OUT_ROUTE, error)


def routes() -> list[Route]:
    return [Route(SESSION_ROUTE, start_cookie, methods=["GET"]), Route(SIGN_OUT_ROUTE, clear_cookie, methods=["GET"])]
