"""End to end in headless Chromium against the running app: what an agent actually does."""
import ipaddress
import re
import socket
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.browser import REFUSED_REQUESTS, browser_missing_reason, chromium_page, running_app, search_and_wait

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if reason := browser_missing_reason():
    pytest.skip(f"browser tests skipped: {reason}", allow_module_level=True)


@pytest.fixture(scope="module")
def served(small_db_path):
    with running_app(small_db_path) as base:
        yield base


def test_agent_searches_a_name_and_sees_the_customer(served, small_db):
    from crm360.queries.customer import search_customers

    candidates = small_db.frame("""SELECT full_name, name_key FROM customer_summary WHERE orders > 0
                                   ORDER BY customer_id LIMIT 50""").rows()
    name, key = next((n, k) for n, k in candidates if search_customers(small_db, k).to_open is not None)
    with chromium_page() as page:
        search_and_wait(page, served, key, name)
        page.get_by_text("Value so far").first.wait_for(timeout=15_000)
        page.get_by_text("churn risk").first.wait_for(timeout=15_000)  # the header's standing badges
        page.get_by_role("tab", name="Purchases").click()  # sections are drawn when opened
        page.get_by_text("Completed orders").first.wait_for(timeout=15_000)


def test_agent_types_a_phone_number_and_sees_the_right_customer(served, small_db):
    name, phone = small_db.row("""SELECT min(full_name), phone FROM customers WHERE phone IS NOT NULL
                                  GROUP BY phone HAVING count(*) = 1 ORDER BY phone LIMIT 1""")
    typed = f"0{phone[3:6]} {phone[6:9]} {phone[9:11]} {phone[11:]}"
    with chromium_page() as page:
        search_and_wait(page, served, typed, name)


def test_telephony_deep_link_as_first_visit_to_a_fresh_server_opens_the_full_app(small_db_path, small_db):
    """A screen-pop is often the first request after a restart: it must get the real app
    (navigation, every page), not the lone page file Streamlit would run by itself."""
    name, customer_id = small_db.row("SELECT full_name, customer_id FROM customers ORDER BY customer_id LIMIT 1")
    with running_app(small_db_path) as fresh, chromium_page() as page:
        for _ in range(2):
            page.goto(f"{fresh}/customer?customer={customer_id}")
            page.get_by_role("heading", name=name).first.wait_for(timeout=15_000)
            page.get_by_role("link", name="Customer lookup").first.wait_for(timeout=15_000)
            assert page.get_by_role("link", name="Data health").count() == 1
            assert "Page not found" not in page.content()


SIDEBAR = {"agent": ["Customer lookup"], "marketing": ["Segments", "Outreach", "Campaigns", "Value model"],
           "service_lead": ["Outreach", "Campaigns"],
           "executive": ["Trends", "Value model"], "admin": ["Data health", "Users", "Audit log"]}


def _sign_in(page, base: str, path: str, user: str, password: str) -> None:
    page.goto(base + path)
    page.get_by_role("textbox", name="User name").fill(user)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_each_role_signs_in_and_sees_its_own_pages(small_db_path, small_db, tmp_path):
    from crm360.access import ROLES, UserStore

    store = UserStore(tmp_path / "users.sqlite")
    passwords = {role: store.add(f"demo-{role}", role) for role in ROLES}
    env = {"CRM_AUTH": "password", "CRM_USERS": str(tmp_path / "users.sqlite"),
           "CRM_AUDIT": str(tmp_path / "audit.sqlite")}
    name, customer_id = small_db.row("SELECT full_name, customer_id FROM customers ORDER BY customer_id LIMIT 1")
    every_page = {title for titles in SIDEBAR.values() for title in titles}
    with running_app(small_db_path, env) as base, chromium_page() as page:
        for role in ROLES:
            page.context.clear_cookies()
            _sign_in(page, base, "/", f"demo-{role}", passwords[role])
            page.get_by_text(f"Signed in as demo-{role}").first.wait_for(timeout=15_000)
            nav = page.get_by_test_id("stSidebar")  # the page links dashboard.py draws
            for title in SIDEBAR[role]:
                nav.get_by_role("link", name=title).first.wait_for(timeout=15_000)
                assert nav.get_by_role("link", name=title).count() == 1, (role, title)
            for title in every_page - set(SIDEBAR[role]) - {"Value model"}:
                assert nav.get_by_role("link", name=title).count() == 0, (role, title)
            page.get_by_role("button", name="Sign out").click()
            page.get_by_role("button", name="Sign in").wait_for(timeout=15_000)
        # A screen-pop link before sign-in opens the customer once the agent has signed in.
        _sign_in(page, base, f"/customer?customer={customer_id}", "demo-agent", passwords["agent"])
        page.get_by_role("heading", name=name).first.wait_for(timeout=15_000)
        page.get_by_role("button", name="Sign out").click()
        # Marketing following the same link gets no profile.
        _sign_in(page, base, f"/customer?customer={customer_id}", "demo-marketing", passwords["marketing"])
        page.get_by_text("Signed in as demo-marketing").first.wait_for(timeout=15_000)
        assert page.get_by_role("heading", name=name).count() == 0


@pytest.mark.parametrize("path", ["segments", "model", "outreach", "campaigns", "trends", "data-health", "users",
                                  "audit"])
def test_every_page_answers_a_first_visit_to_a_fresh_server_at_its_own_path(small_db_path, path):
    """Before any page has run, Streamlit serves the pages folder by file name: a page whose file
    name differed from its URL path answered "Page not found" over itself on that first visit."""
    with running_app(small_db_path) as fresh, chromium_page() as page:
        page.goto(f"{fresh}/{path}")
        page.get_by_text("Local mode").first.wait_for(timeout=15_000)
        page.get_by_role("heading", level=1).first.wait_for(timeout=15_000)
        assert "Page not found" not in page.content()


def _listening_addresses(port: int) -> set[str]:
    """The local addresses on which some socket of this machine listens on `port` (/proc/net)."""
    found = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            lines = open(table).read().splitlines()[1:]  # noqa: SIM115
        except FileNotFoundError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)  # each 32-bit word in host (little-endian) order
                found.add(socket.inet_ntop(family, b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))))
    return found


def _refused(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=3).close()
    except ConnectionRefusedError:
        return True
    return False


def test_the_server_listens_on_this_machine_only(small_db_path):
    """With no setting, the app answers on loopback only: a socket bound to 127.0.0.1 and ::1
    cannot accept a connection to any other address of the machine. 127.0.0.2 stands in for one
    (a wildcard bind would accept it) without sending anything off the loopback range."""
    with running_app(small_db_path) as base:
        port = urlparse(base).port
        listening = _listening_addresses(port)
        assert listening and all(ipaddress.ip_address(a).is_loopback for a in listening), listening
        assert _refused("127.0.0.2", port)


def test_the_documented_setting_moves_the_server_to_another_address(small_db_path):
    with running_app(small_db_path, {"STREAMLIT_SERVER_ADDRESS": "127.0.0.2"}) as base:
        port = urlparse(base).port
        assert _listening_addresses(port) == {"127.0.0.2"}
        assert _refused("127.0.0.1", port)


@pytest.mark.parametrize("path", ["/", "/customer?customer=1"])
def test_before_sign_in_a_fresh_server_lists_no_pages_and_offers_no_deploy_button(small_db_path, tmp_path, path):
    """Streamlit lists the pages/ folder's files in the sidebar of an app that has not yet run
    st.navigation, as the first visit to a fresh server is, and before sign-in it never does."""
    from crm360.access import UserStore

    password = UserStore(tmp_path / "users.sqlite").add("demo-agent", "agent")
    env = {"CRM_AUTH": "password", "CRM_USERS": str(tmp_path / "users.sqlite"),
           "CRM_AUDIT": str(tmp_path / "audit.sqlite")}
    refused_before = len(REFUSED_REQUESTS)
    with running_app(small_db_path, env) as fresh, chromium_page() as page:
        page.goto(fresh + path, wait_until="commit")
        deadline = time.time() + 4
        while time.time() < deadline:  # the whole first render, sampled every 50 ms
            assert page.get_by_test_id("stSidebarNav").count() == 0
            links = set(page.get_by_role("link").all_inner_texts()) - {"Skip to main content"}
            assert not links, links
            page.wait_for_timeout(50)
        page.get_by_role("button", name="Sign in").wait_for(timeout=15_000)
        assert page.get_by_role("button", name="Deploy").count() == 0
        assert page.get_by_text("Deploy", exact=True).count() == 0
        _sign_in(page, fresh, "/", "demo-agent", password)
        page.get_by_test_id("stSidebar").get_by_role("link", name="Customer lookup").wait_for(timeout=15_000)
    assert REFUSED_REQUESTS[refused_before:] == []  # no usage statistics, nothing else sent out


def test_a_failing_page_shows_an_incident_id_and_the_server_log_has_the_traceback(tmp_path):
    import duckdb

    from crm360.store import current_version
    from tests.conftest import load_dir
    from tests.rawfiles import write_raw

    load_dir(write_raw(tmp_path / "raw", customers=[{"customer_id": 1_000_001}]), tmp_path)
    db_path = tmp_path / "db" / "crm.duckdb"
    with duckdb.connect(str(current_version(db_path))) as con:
        con.execute("ALTER TABLE dataset_info DROP COLUMN survey_responses")  # the overview reads it
    log = tmp_path / "server.log"
    with running_app(db_path, log=log) as base, chromium_page() as page:
        page.goto(base + "/")
        page.get_by_text("Incident").first.wait_for(timeout=15_000)
        shown = page.inner_text("body")
        incident = re.search(r"Incident ([0-9a-f]{8})", shown).group(1)
        assert "Traceback" not in shown and "KeyError" not in shown and "survey_responses" not in shown
    logged = log.read_text()
    assert f"incident {incident}" in logged and "Traceback" in logged and "KeyError: 'survey_responses'" in logged


def test_names_from_the_data_are_text_in_the_browser(tmp_path):
    """A customer's name and a campaign's name holding a web address, an e-mail address, an
    icon code, emoji codes and colour codes show as typed: no link, no icon, no emoji."""
    from tests.shown import HOSTILE_CAMPAIGN, HOSTILE_CUSTOMER_ID, HOSTILE_NAME, hostile_company

    db_path, campaigns = hostile_company(tmp_path)
    with running_app(db_path, {"CRM_CAMPAIGNS": str(campaigns)}) as base, chromium_page() as page:
        page.goto(f"{base}/customer?customer={HOSTILE_CUSTOMER_ID}")
        heading = page.get_by_role("heading", level=2).first
        heading.wait_for(timeout=15_000)
        assert heading.inner_text().replace("\u2060", "") == HOSTILE_NAME
        alert = page.get_by_test_id("stAlertContentInfo").filter(has_text="Kampanya")
        assert HOSTILE_CAMPAIGN in alert.inner_text().replace("\u2060", "")
        for shown in (heading, alert.get_by_test_id("stMarkdownContainer")):
            assert shown.locator("a, img, [role=img], [class*=badge], [class*=Badge]").count() == 0, shown.inner_html()
        assert "😄" not in page.inner_text("body")
        assert page.locator("a[href*='evil'], a[href^='mailto']").count() == 0
        page.goto(f"{base}/campaigns")
        chooser = page.get_by_role("combobox", name="Campaign")
        chooser.wait_for(timeout=15_000)
        assert chooser.input_value() == f"#1 {HOSTILE_CAMPAIGN} (marketing)"
        chooser.click()
        option = page.get_by_role("option").filter(has_text="Kampanya")
        option.wait_for(timeout=15_000)
        assert option.inner_text() == f"#1 {HOSTILE_CAMPAIGN} (marketing)"
        assert option.locator("a, [role=img]").count() == 0
        assert page.locator("a[href*='evil']").count() == 0


def test_a_marketing_user_downloads_the_outreach_list_stamped_and_audited_as_themselves(small_db_path, tmp_path):
    """The file's data is built on the click, outside the session: it must still name the person,
    and so must its audit entry. The table itself offers no download of its own."""
    from crm360.access import UserStore
    from crm360.audit import AuditLog

    password = UserStore(tmp_path / "users.sqlite").add("elif.pazarlama", "marketing")
    env = {"CRM_AUTH": "password", "CRM_USERS": str(tmp_path / "users.sqlite"),
           "CRM_AUDIT": str(tmp_path / "audit.sqlite"), "CRM_CAMPAIGNS": str(tmp_path / "campaigns.sqlite")}
    with running_app(small_db_path, env) as base, chromium_page() as page:
        _sign_in(page, base, "/outreach", "elif.pazarlama", password)
        button = page.get_by_role("button", name="Download the list (CSV)")
        button.wait_for(timeout=30_000)
        table = page.get_by_test_id("stDataFrame").first
        table.hover()
        page.get_by_role("button", name="Show/hide columns").first.wait_for(timeout=15_000)  # the toolbar is up
        assert page.get_by_role("button", name="Download as CSV").count() == 0
        with page.expect_download(timeout=60_000) as download:
            button.click()
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    header, *rows = text.splitlines()
    assert header.endswith("exported_by,exported_at") and rows
    assert all(",elif.pazarlama (Marketing)," in row for row in rows[:50]) and "local (all)" not in text
    [entry] = AuditLog(tmp_path / "audit.sqlite").search(action="export")
    assert (entry.user_name, entry.role, entry.page, entry.customers) == ("elif.pazarlama", "marketing", "outreach",
                                                                         len(rows))


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None, locator
    return box


def test_the_first_screen_at_1280x720_holds_the_call_and_the_search_box_is_ready(served, small_db, tmp_path):
    """Without scrolling: identity, consent, alerts, value, churn and the latest five events; the
    search box has the focus on load, and the New call key (F2) empties it, from inside it too."""
    customer_id, name, phone = small_db.row(
        """SELECT customer_id, full_name, phone FROM customer_summary WHERE open_complaints > 0 AND phone IS NOT NULL
           ORDER BY contacts DESC, customer_id LIMIT 1""")
    with chromium_page(1280, 720) as page:
        page.goto(f"{served}/customer?customer={customer_id}")
        page.get_by_role("heading", name=name).first.wait_for(timeout=15_000)
        page.get_by_text("Latest five events").wait_for(timeout=15_000)
        page.wait_for_timeout(500)  # the last elements settle
        page.screenshot(path=str(tmp_path / "first-screen.png"))
        assert page.title() == f"{name} · Customer lookup"
        national = f"0{phone[3:6]} {phone[6:9]} {phone[9:11]} {phone[11:]}"
        latest = page.get_by_test_id("stMarkdown").filter(has_text="Latest five events")
        events = latest.locator("xpath=following::*[@data-testid='stMarkdown'][1]")
        parts = {"identity": page.get_by_text(national).first,
                 "consent": page.get_by_text("E-mail consent").first,
                 "alert": page.get_by_test_id("stAlertContainer").filter(has_text="Open complaint").first,
                 "value": page.get_by_test_id("stMetric").filter(has_text="Value so far"),
                 "churn": page.get_by_test_id("stMetric").filter(has_text="Churn risk"),
                 "latest five events": events}
        for part, locator in parts.items():
            box = _box(locator)
            assert box["y"] >= 0 and box["y"] + box["height"] <= 720, (part, box)
        assert events.inner_text().count("\n") == 4, "five events, one a line"
        assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Find a customer"
        box = page.get_by_role("textbox", name="Find a customer")
        box.fill(str(customer_id))
        box.press("Enter")
        page.get_by_role("heading", name=name).first.wait_for(timeout=15_000)
        box.press("F2")  # inside the box, where Streamlit itself ignores a button's shortcut
        page.get_by_role("heading", name=name).wait_for(state="detached", timeout=15_000)
        page.wait_for_timeout(300)
        assert box.input_value() == ""
        assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Find a customer"
        box.type("half typed, never sent")
        page.keyboard.press("F2")
        page.wait_for_timeout(1_000)
        assert box.input_value() == ""


def test_namesakes_are_picked_with_the_arrow_keys_and_enter(served, small_db):
    from crm360.queries.customer import search_customers

    names = small_db.frame("SELECT full_name FROM customers GROUP BY full_name HAVING count(*) > 1 "
                           "ORDER BY full_name")["full_name"].to_list()
    name = next(n for n in names if search_customers(small_db, n).total > 1)
    with chromium_page(1280, 720) as page:
        page.goto(f"{served}/customer")
        box = page.get_by_role("textbox", name="Find a customer")
        box.wait_for(timeout=15_000)
        page.wait_for_timeout(300)  # the focus script
        page.keyboard.type(name)
        page.keyboard.press("Enter")
        page.get_by_text("nothing is opened until you pick one").wait_for(timeout=15_000)
        assert page.get_by_role("heading", name=name).count() == 0
        first = search_customers(small_db, name).matches["full_name"][0]  # the list's order
        page.get_by_role("combobox", name="Which of them is calling?").wait_for(timeout=15_000)
        page.keyboard.press("ArrowDown")  # from the search box to the list of matches, opened
        page.get_by_role("option").first.wait_for(timeout=15_000)
        page.keyboard.press("Enter")
        page.get_by_role("heading", name=first, exact=True).first.wait_for(timeout=30_000)
        page.get_by_text("Latest five events").wait_for(timeout=15_000)
