"""In headless Chromium against server.py with sign-in on: an agent signs in once, and a refresh, a
new tab and a screen-pop link open signed in; signing out, or the idle window passing, asks again;
the cookie is one no script can read; pages refuse to be framed by another site."""
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.browser import browser_missing_reason, chromium_page, running_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if reason := browser_missing_reason():
    pytest.skip(f"browser tests skipped: {reason}", allow_module_level=True)

COOKIE = "crm360_session"


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    from crm360.access import UserStore

    stores = tmp_path_factory.mktemp("signed-in")
    password = UserStore(stores / "users.sqlite").add("ayse.agent", "agent")
    env = {"CRM_AUTH": "password", "CRM_USERS": str(stores / "users.sqlite"), "CRM_AUDIT": str(stores / "audit.sqlite")}
    return password, env, stores


@pytest.fixture(scope="module")
def served(small_db_path, agent):
    with running_app(small_db_path, agent[1]) as base:
        yield base


@pytest.fixture(scope="module")
def two_customers(small_db):
    return small_db.frame("SELECT customer_id, full_name FROM customers ORDER BY customer_id LIMIT 2").rows()


def _sign_in(page, base: str, path: str, password: str) -> None:
    page.goto(base + path)
    page.get_by_role("textbox", name="User name").fill("ayse.agent")
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def _session_cookie(page, timeout_s: float = 15) -> dict:
    """The session cookie, once the page's background call has brought it."""
    deadline = time.time() + timeout_s
    while not (found := [c for c in page.context.cookies() if c["name"] == COOKIE]) and time.time() < deadline:
        time.sleep(0.1)
    [cookie] = found
    return cookie


def test_a_signed_in_agent_stays_signed_in_across_refresh_new_tab_and_screen_pop(served, agent, two_customers):
    from crm360.audit import AuditLog

    (first_id, first_name), (second_id, second_name) = two_customers
    with chromium_page(1280, 720) as page:
        _sign_in(page, served, f"/customer?customer={first_id}", agent[0])  # a screen-pop before sign-in
        page.get_by_role("heading", name=first_name).first.wait_for(timeout=30_000)
        assert page.url.endswith(f"/customer?customer={first_id}")  # back on the page the link asked for
        cookie = _session_cookie(page)
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
        assert cookie["expires"] == -1  # gone when the browser closes
        assert COOKIE not in page.evaluate("document.cookie")  # no script on the page can read it
        page.reload()
        page.get_by_role("heading", name=first_name).first.wait_for(timeout=15_000)
        page.get_by_text("Signed in as ayse.agent").first.wait_for(timeout=15_000)
        tab = page.context.new_page()  # the softphone's screen-pop opens a new tab of the same browser
        tab.goto(f"{served}/customer?customer={second_id}")
        tab.get_by_role("heading", name=second_name).first.wait_for(timeout=15_000)
        assert tab.get_by_role("button", name="Sign in").count() == 0
        # Signing out in one tab ends the session: the other tab asks again at its next load,
        # and the same cookie put back into a browser opens nothing.
        tab.get_by_role("button", name="Sign out").click()
        tab.get_by_role("button", name="Sign in").wait_for(timeout=15_000)
        deadline = time.time() + 10
        while any(c["name"] == COOKIE for c in page.context.cookies()) and time.time() < deadline:
            time.sleep(0.2)  # /auth/sign-out clears it
        assert not any(c["name"] == COOKIE for c in page.context.cookies())
        page.reload()
        page.get_by_role("button", name="Sign in").wait_for(timeout=15_000)
        page.context.add_cookies([{k: cookie[k] for k in ("name", "value", "domain", "path", "httpOnly", "sameSite")}])
        page.goto(f"{served}/customer?customer={first_id}")
        page.get_by_role("button", name="Sign in").wait_for(timeout=15_000)
        assert page.get_by_role("heading", name=first_name).count() == 0
    time.sleep(1)  # the app writes its audit entries on a background thread
    actions = [e.action for e in reversed(AuditLog(agent[2] / "audit.sqlite").search(user_name="ayse.agent"))]
    assert actions[0] == "sign_in" and actions.count("sign_out") == 1
    assert actions.count("session_resumed") == 2  # the refresh and the new tab: once per page load


def test_the_session_ends_after_the_idle_window(small_db_path, two_customers, tmp_path):
    from crm360.access import UserStore

    password = UserStore(tmp_path / "users.sqlite").add("ayse.agent", "agent")
    env = {"CRM_AUTH": "password", "CRM_USERS": str(tmp_path / "users.sqlite"),
           "CRM_AUDIT": str(tmp_path / "audit.sqlite"), "CRM_SESSION_IDLE_MINUTES": "0.1"}  # 6 seconds
    (customer_id, name), _ = two_customers
    with running_app(small_db_path, env) as base, chromium_page(1280, 720) as page:
        _sign_in(page, base, f"/customer?customer={customer_id}", password)
        page.get_by_role("heading", name=name).first.wait_for(timeout=30_000)
        time.sleep(7)
        page.goto(f"{base}/customer?customer={customer_id}")  # a screen-pop after the window
        page.get_by_role("button", name="Sign in").wait_for(timeout=15_000)
        page.get_by_text("without activity").first.wait_for(timeout=15_000)
        assert page.get_by_role("heading", name=name).count() == 0


def test_a_forged_cookie_or_a_replayed_ticket_opens_nothing(served, agent, two_customers):
    (customer_id, _), _ = two_customers
    with chromium_page(1280, 720) as page:
        host = served.split("//")[1].split(":")[0]
        page.context.add_cookies([{"name": COOKIE, "value": "InNlc3Npb24i.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb",
                                   "domain": host, "path": "/"}])
        page.goto(f"{served}/customer?customer={customer_id}")
        page.get_by_role("button", name="Sign in").wait_for(timeout=15_000)
        tickets = []
        page.on("request", lambda request: tickets.append(request.url) if "/auth/session?" in request.url else None)
        page.context.clear_cookies()
        _sign_in(page, served, "/", agent[0])
        page.get_by_text("Signed in as ayse.agent").first.wait_for(timeout=30_000)
        _session_cookie(page)
        [hand_over] = tickets
    with urllib.request.urlopen(hand_over, timeout=10) as replayed:  # the spent ticket, sent again from elsewhere
        assert replayed.status == 204 and replayed.headers.get("Set-Cookie") is None


def test_the_hand_over_sends_the_browser_nowhere_but_this_site(served):
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        request = urllib.request.Request(f"{served}/auth/session?ticket=x&next={urllib.parse.quote(target)}")
        opener = urllib.request.build_opener(_NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as answer:
            opener.open(request, timeout=10)
        assert answer.value.code == 303 and answer.value.headers["Location"] == "/"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_pages_carry_the_security_headers(served):
    for path in ("/", "/customer?customer=1"):
        with urllib.request.urlopen(served + path, timeout=10) as response:
            assert response.headers["X-Frame-Options"] == "DENY"
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
            assert response.headers["Referrer-Policy"] == "same-origin"
