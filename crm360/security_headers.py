"""Response headers that keep the app's pages out of other sites' frames and keep its addresses
(a screen-pop's `/customer?phone=...`) out of the Referer sent to other sites.

A page of the app framed by another site could be shown under a decoy and clicked through
(clickjacking): every HTML page says no framing at all, by the old header and the CSP one. Streamlit
serves custom components at /component/ for the app's own frames, so those may be framed by the
app itself only.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_OWN_FRAMES = "/component/"


class SecurityHeaders:
    """ASGI middleware (server.py) adding the headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not same_origin(scope):
            # Streamlit accepts any localhost origin on its live connection, and SameSite does not
            # tell ports apart: a page of another local web server could drive a signed-in session.
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        framed_by_app = scope.get("path", "").startswith(_OWN_FRAMES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_headers(MutableHeaders(scope=message), framed_by_app)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def same_origin(scope: Scope) -> bool:
    """The connection comes from a page of this very host and port (or from no page at all: a
    browser always sends Origin on a websocket, so only a non-browser client lacks it)."""
    headers = Headers(scope=scope)
    origin = headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == headers.get("host", "").lower()


def add_headers(headers: MutableHeaders, framed_by_app: bool = False) -> None:
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Content-Type-Options"] = "nosniff"
    if not headers.get("content-type", "").startswith("text/html"):
        return
    headers["X-Frame-Options"] = "SAMEORIGIN" if framed_by_app else "DENY"
    ancestors = "frame-ancestors 'self'" if framed_by_app else "frame-ancestors 'none'"
    policy = headers.get("content-security-policy")
    headers["Content-Security-Policy"] = f"{policy}; {ancestors}" if policy else ancestors
