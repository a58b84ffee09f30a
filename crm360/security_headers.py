"""Response headers that keep the app's pages out of other sites' frames and keep its addresses
(a screen-pop's `/customer?phone=...`) out of the Referer sent to other sites.

A page of the app framed by another site could be shown under a decoy and clicked through
(clickjacking): every HTML page says no framing at all, by the old header and the CSP one. Streamlit
serves custom components at /component/ for the app's own frames, so those may be framed by the
app itself only.
"""
from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_OWN_FRAMES = "/component/"


class SecurityHeaders:
    """ASGI middleware (server.py) adding the headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        framed_by_app = scope.get("path", "").startswith(_OWN_FRAMES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_headers(MutableHeaders(scope=message), framed_by_app)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def add_headers(headers: MutableHeaders, framed_by_app: bool = False) -> None:
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Content-Type-Options"] = "nosniff"
    if not headers.get("content-type", "").startswith("text/html"):
        return
    headers["X-Frame-Options"] = "SAMEORIGIN" if framed_by_app else "DENY"
    ancestors = "frame-ancestors 'self'" if framed_by_app else "frame-ancestors 'none'"
    policy = headers.get("content-security-policy")
    headers["Content-Security-Policy"] = f"{policy}; {ancestors}" if policy else ancestors
