"""A whole call in headless Chromium at 1280x720, as an agent makes it: the screen-pop opens in a
signed-in tab, the agent verifies the caller, logs the call with a follow-up, opens a complaint and
records a consent withdrawal; the next screen-pop shows all of it, the marketing list no longer
offers the withdrawn channel, and the next ETL counts the complaint in the trends."""
from __future__ import annotations

import pytest

from tests.browser import browser_missing_reason, chromium_page, running_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if reason := browser_missing_reason():
    pytest.skip(f"browser tests skipped: {reason}", allow_module_level=True)

AGENT = "ayse.agent"
COMPLAINT_TEXT = "Kargo üç gündür gelmedi <b>acil</b>"


@pytest.fixture
def caller(small_db):
    """A customer with a phone of their own, SMS consent and an SMS marketing row on the outreach list."""
    return small_db.row(
        """SELECT s.customer_id, s.full_name, s.phone FROM customer_summary s
           JOIN outreach_candidates o USING (customer_id)
           WHERE o.marketing AND o.marketing_channel = 'sms' AND s.consent_sms AND NOT s.do_not_contact
             AND s.phone IN (SELECT phone FROM customers GROUP BY phone HAVING count(*) = 1)
           ORDER BY s.customer_id LIMIT 1""")


def _wait_for_session_cookie(page, timeout_s: float = 20) -> None:
    import time

    deadline = time.time() + timeout_s
    while not any(c["name"] == "crm360_session" for c in page.context.cookies()):
        assert time.time() < deadline, "signed in, but the browser got no session cookie"
        page.wait_for_timeout(100)


def _choose(page, label: str, option: str) -> None:
    """Pick from a select box; a rerun that redraws the box while it opens closes it, so try again."""
    from playwright.sync_api import TimeoutError as NotThere

    for _ in range(5):
        page.get_by_role("combobox", name=label).click()
        try:
            page.get_by_role("option", name=option).first.click(timeout=3_000)
            return
        except NotThere:
            page.keyboard.press("Escape")
            page.wait_for_timeout(500)
    raise AssertionError(f"could not pick {option!r} in {label!r}")


def test_a_whole_call_from_screen_pop_to_the_next_load(small_db_path, small_db, small_raw, caller, tmp_path,
                                                       monkeypatch):
    from crm360.access import UserStore
    from crm360.audit import AuditLog
    from crm360.desk import DeskStore
    from crm360.queries import outreach
    from crm360.store import Database
    from etl.pipeline import LoadParams, run_etl

    customer_id, name, phone = caller
    password = UserStore(tmp_path / "users.sqlite").add(AGENT, "agent")
    desk_path = tmp_path / "desk.sqlite"
    env = {"CRM_AUTH": "password", "CRM_USERS": str(tmp_path / "users.sqlite"),
           "CRM_AUDIT": str(tmp_path / "audit.sqlite"), "CRM_DESK": str(desk_path)}
    pop = f"/customer?phone=0{phone[3:]}"
    with running_app(small_db_path, env) as base, chromium_page(1280, 720) as page:
        page.goto(base + "/")  # the agent signed in at the start of the shift
        page.get_by_role("textbox", name="User name").fill(AGENT)
        page.get_by_role("textbox", name="Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text(f"Signed in as {AGENT}").first.wait_for(timeout=30_000)
        _wait_for_session_cookie(page)  # fetched in the background after the form: a screen-pop needs it

        page.goto(base + pop)  # the softphone's screen-pop: no password asked
        page.get_by_role("heading", name=name).first.wait_for(timeout=30_000)
        assert page.get_by_role("button", name="Sign in").count() == 0

        page.get_by_role("button", name="Verify caller").click()
        page.get_by_role("button", name="Phone number").click()
        page.get_by_role("button", name="Caller verified").click()
        page.get_by_text("Verified ").first.wait_for(timeout=15_000)

        page.get_by_role("tab", name="Wrap-up").click()
        _choose(page, "Reason for the call", "Delivery")
        page.get_by_text("Follow-up needed").first.click()
        page.get_by_role("textbox", name="Note").fill("Kargo gecikti; müşteri kızgın")
        page.get_by_text("Add a follow-up task").click()
        page.get_by_role("textbox", name="What to do").fill("Kargo firmasını ara, müşteriye dön")
        page.get_by_role("button", name="Save the call").click()
        page.get_by_text("logged (Follow-up needed)").wait_for(timeout=15_000)
        assert page.get_by_role("textbox", name="Note").input_value() == ""  # emptied: no second log by mistake

        page.get_by_role("tab", name="Open a complaint").click()
        _choose(page, "Category", "Late delivery")
        _choose(page, "Severity", "High")
        page.get_by_role("textbox", name="What the customer says").fill(COMPLAINT_TEXT)
        page.get_by_role("button", name="Open the complaint").click()
        page.get_by_text("the first answer is due by").wait_for(timeout=15_000)

        page.get_by_role("tab", name="Consent").click()
        page.get_by_text("withdraw consent").click()
        page.get_by_text("SMS", exact=True).last.click()
        page.get_by_role("button", name="Record it").click()
        page.get_by_text("SMS consent withdrawn.").first.wait_for(timeout=15_000)
        assert not page.get_by_role("radio", name="withdraw consent").is_checked()

        tab = page.context.new_page()  # the next screen-pop for this customer, in a new tab
        tab.set_viewport_size({"width": 1280, "height": 720})
        tab.goto(base + pop)
        tab.get_by_role("heading", name=name).first.wait_for(timeout=30_000)
        tab.get_by_text("Latest five events").wait_for(timeout=15_000)
        tab.get_by_test_id("stAlertContainer").filter(has_text="Late delivery").first.wait_for(timeout=15_000)
        latest = tab.get_by_test_id("stMarkdown").filter(has_text="Latest five events")
        events = latest.locator("xpath=following::*[@data-testid='stMarkdown'][1]").inner_text().lower()
        assert "late delivery" in events and "delivery" in events
        tab.get_by_text("SMS consent: no").first.wait_for(timeout=15_000)
        tab.get_by_role("tab", name="Timeline").click()
        tab.get_by_text("Kargo gecikti").first.wait_for(timeout=15_000)
        tab.screenshot(path=str(tmp_path / "next-screen-pop.png"))

    desk = DeskStore(desk_path)
    mine = desk.customer_desk(customer_id)
    assert mine.calls.height == 1 and mine.complaints.height == 1 and mine.consent.height == 1
    assert mine.complaints["description"][0] == COMPLAINT_TEXT  # kept as typed, shown as text
    assert desk.tasks(owner=AGENT)["customer_id"].to_list() == [customer_id]
    log = AuditLog(tmp_path / "audit.sqlite")
    actions = {entry.action for entry in log.search(customer_id=customer_id)}
    assert {"profile_view", "caller_verified", "call_logged", "complaint_opened", "consent_changed"} <= actions

    monkeypatch.setenv("CRM_DESK", str(desk_path))  # this process's marketing list reads the same desk
    everyone = outreach.CandidateFilter()
    assert customer_id not in outreach.campaign_audience(small_db, everyone, "sms")["customer_id"].to_list()

    before = small_db.row("SELECT count(*) FROM trend_complaints")[0]
    run_etl(LoadParams(raw_dir=small_raw, db_path=tmp_path / "db" / "crm.duckdb", desk=desk_path))
    loaded = Database(tmp_path / "db" / "crm.duckdb")
    try:
        assert loaded.row("SELECT count(*) FROM trend_complaints")[0] == before + 1
        assert loaded.row("SELECT count(*) FROM trend_complaints WHERE complaint_id = ?",
                          [mine.complaints["complaint_id"][0]])[0] == 1
        assert loaded.row("SELECT consent_sms FROM marketing_consent WHERE customer_id = ?", [customer_id]) == (False,)
    finally:
        loaded.close()
