"""End to end in headless Chromium against the running app: what an agent actually does."""
from pathlib import Path

import pytest

from tests.browser import browser_missing_reason, chromium_page, running_app, search_and_wait

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if reason := browser_missing_reason():
    pytest.skip(f"browser tests skipped: {reason}", allow_module_level=True)


@pytest.fixture(scope="module")
def served(small_db_path):
    with running_app(small_db_path) as base:
        yield base


def test_agent_searches_a_name_and_sees_the_customer(served, small_db):
    name, key = small_db.row("""SELECT full_name, name_key FROM customer_summary WHERE orders > 0
                                ORDER BY customer_id LIMIT 1""")
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
            nav = page.get_by_test_id("stSidebarNav")
            for title in SIDEBAR[role]:
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
