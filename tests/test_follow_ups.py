"""My follow-ups: an agent sees their own open tasks (overdue, due today, upcoming in Istanbul time),
one click from each customer, and marks them done; a service lead sees the whole team's; nobody
else opens the page."""
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from crm360 import clock, desk
from crm360.access import User
from crm360.queries import desk as tasks_query
from tests.conftest import sign_in_session
from tests.shown import as_shown

APP = "../dashboard.py"
AGENT, COLLEAGUE, LEAD = User("test-agent", "agent"), User("test-colleague", "agent"), User("test-lead", "service_lead")


@pytest.fixture
def store(small_db_path, monkeypatch, tmp_path) -> desk.DeskStore:
    monkeypatch.delenv("CRM_AUTH", raising=False)
    monkeypatch.setenv("CRM_DB", str(small_db_path))
    monkeypatch.setenv("CRM_DESK", str(tmp_path / "desk.sqlite"))
    return desk.DeskStore(tmp_path / "desk.sqlite")


@pytest.fixture
def customers(small_db) -> list[int]:
    return [row[0] for row in small_db.frame("SELECT customer_id FROM customers ORDER BY customer_id LIMIT 4")
            .iter_rows()]


NOW: list[datetime] = []  # the real clock in Istanbul, which the page judges tasks by


@pytest.fixture(autouse=True)
def page_now() -> None:
    NOW[:] = [clock.wall()]


def task(store: desk.DeskStore, customer_id: int, owner: str, due_in: timedelta, note: str) -> int:
    """A follow-up due `due_in` from now (made earlier, so an overdue one could be made at all)."""
    now = NOW[0]
    made = now + min(due_in, timedelta(0)) - timedelta(hours=1)
    store.log_call(customer_id, "test-agent", "delivery", "follow_up_needed", "", now=made,
                   follow_up=desk.FollowUp(now + due_in, owner, note))
    return int(store.tasks(owner=owner)["task_id"].max())


def page(user: User | None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    if user is not None:
        sign_in_session(app, user)
    app.run()
    app.switch_page("pages/follow-ups.py")
    app.run()
    assert not app.exception, app.exception
    return app


def metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def tasks_table(app: AppTest) -> pl.DataFrame:
    return pl.from_pandas(app.dataframe[-1].value)


def test_an_agent_sees_only_their_own_tasks_overdue_first_each_a_link_to_its_customer(store, customers):
    overdue = task(store, customers[0], "test-agent", timedelta(hours=-2), "Call back about the parcel")
    later = task(store, customers[1], "test-agent", timedelta(days=3), "Check the refund arrived")
    task(store, customers[2], "test-colleague", timedelta(hours=-1), "Not mine")
    app = page(AGENT)
    assert app.title[0].value == "My follow-ups"
    assert metrics(app)["Overdue"] == "1" and metrics(app)["Upcoming"] == "1"
    shown = tasks_table(app)
    assert shown["customer_id"].to_list() == [customers[0], customers[1]]
    assert shown["when_label"].to_list() == ["Overdue", "Upcoming"]
    assert shown["profile"].to_list() == [f"/customer?customer={customers[0]}", f"/customer?customer={customers[1]}"]
    assert "Not mine" not in shown["note"].to_list() and "owner" not in shown.columns
    assert shown["task_id"].to_list() == [overdue, later]
    assert not any("Per owner" in h.value for h in app.subheader)


def test_marking_a_task_done_closes_it_audits_it_and_keeps_the_rest(store, customers):
    first = task(store, customers[0], "test-agent", timedelta(hours=1), "First")
    second = task(store, customers[1], "test-agent", timedelta(hours=2), "Second")
    app = page(AGENT)
    pick = app.multiselect(key="follow-ups-done-pick")
    assert len(pick.options) == 2
    pick.select(first)
    next(b for b in app.button if b.label == "Mark done").click().run()
    assert not app.exception and not app.error
    assert f"Marked done: #{first}." in "".join(s.value for s in app.success)
    assert store.tasks(owner="test-agent")["task_id"].to_list() == [second]
    assert tasks_table(app)["task_id"].to_list() == [second]
    from crm360 import session
    from crm360.audit import AuditLog

    session.flush_audit()
    log = AuditLog()
    done = log.search(action="task_done")
    assert [(e.user_name, e.detail["task_id"], log.customers_of(e.entry_id)) for e in done] == [
        ("test-agent", first, [customers[0]])]
    listed = log.search(action="list_view", user_name="test-agent")
    assert listed and listed[-1].page == "follow-ups"


def test_mark_done_with_nothing_picked_says_so(store, customers):
    task(store, customers[0], "test-agent", timedelta(hours=1), "First")
    app = page(AGENT)
    next(b for b in app.button if b.label == "Mark done").click().run()
    assert "Pick the tasks to mark done first." in "".join(w.value for w in app.warning)
    assert store.tasks(owner="test-agent").height == 1


def test_the_done_list_offers_no_select_all(store, customers):
    """One slip on "Select all" closed every task at once: tasks are picked one by one."""
    for number in range(3):
        task(store, customers[number], "test-agent", timedelta(hours=number + 1), f"Task {number}")
    app = page(AGENT)
    assert app.multiselect(key="follow-ups-done-pick").proto.select_all == 0


def test_a_task_closed_elsewhere_is_refused_with_a_reason(store, customers):
    first = task(store, customers[0], "test-agent", timedelta(hours=1), "First")
    app = page(AGENT)
    app.multiselect(key="follow-ups-done-pick").select(first)
    store.complete_task(first, "test-agent")  # in another tab, meanwhile
    next(b for b in app.button if b.label == "Mark done").click().run()
    assert f"Task #{first} was already done" in as_shown("".join(e.value for e in app.error))
    assert app.multiselect(key="follow-ups-done-pick").value == [first]


def test_an_agent_without_tasks_is_told_where_they_come_from(store):
    app = page(AGENT)
    assert metrics(app) == {"Overdue": "0", "Due today": "0", "Upcoming": "0"}
    assert "No open follow-up" in app.info[0].value


def test_the_service_lead_sees_the_team_with_overdue_counts_per_owner_and_filters_by_owner(store, customers):
    task(store, customers[0], "test-agent", timedelta(hours=-2), "a")
    task(store, customers[1], "test-agent", timedelta(days=2), "b")
    task(store, customers[2], "test-colleague", timedelta(hours=-1), "c")
    task(store, customers[3], "test-colleague", timedelta(hours=-3), "d")
    app = page(LEAD)
    assert app.title[0].value == "Follow-ups of the team"
    assert metrics(app)["Overdue"] == "3"
    per_owner = pl.from_pandas(app.dataframe[0].value)
    assert per_owner.select("owner", "open", "overdue").rows() == [("test-colleague", 2, 2), ("test-agent", 2, 1)]
    assert sorted(tasks_table(app)["owner"].to_list()) == ["test-agent"] * 2 + ["test-colleague"] * 2
    assert not [m for m in app.multiselect if m.key == "follow-ups-done-pick"]  # the lead's view is for reading
    app.multiselect(key="follow-ups-owners").select("test-agent").run()
    assert tasks_table(app)["owner"].to_list() == ["test-agent", "test-agent"]
    assert metrics(app)["Overdue"] == "1"


@pytest.mark.parametrize("role", ["marketing", "executive", "admin"])
def test_other_roles_cannot_open_the_page(store, customers, role):
    task(store, customers[0], "test-agent", timedelta(hours=1), "secret note")
    script = 'from crm360 import session\nsession.require("follow-ups")\nimport streamlit as st\nst.success("shown")\n'
    app = AppTest.from_string(script, default_timeout=30)
    sign_in_session(app, User(f"test-{role}", role))
    app.run()
    assert not app.success and any("may not open this page" in e.value for e in app.error)


def test_the_page_is_in_the_navigation_of_agents_and_service_leads_only(store):
    from crm360 import access

    assert access.may_open("agent", "follow-ups") and access.may_open("service_lead", "follow-ups")
    assert not any(access.may_open(role, "follow-ups") for role in ("marketing", "executive", "admin"))


# --- "today" in Istanbul ---------------------------------------------------------------------

def test_today_is_the_istanbul_calendar_day():
    now = datetime(2026, 12, 2, 22, 30)  # Istanbul wall time
    tasks = pl.DataFrame({"task_id": [1, 2, 3, 4], "owner": ["a"] * 4, "due_at": [
        datetime(2026, 12, 2, 22, 0), datetime(2026, 12, 2, 23, 59), datetime(2026, 12, 3, 0, 0),
        datetime(2026, 12, 9, 9, 0)]})
    classified = tasks_query.classify_tasks(tasks, now)
    assert classified["when"].to_list() == ["overdue", "today", "upcoming", "upcoming"]
    assert tasks_query.counts_by_when(classified) == {"overdue": 1, "today": 1, "upcoming": 2}


def test_the_desk_stamps_istanbul_time_on_a_server_set_to_utc(monkeypatch, tmp_path, small_db):
    """Written without a page's now (the command line, the bench), the desk reads the real clock in
    Istanbul, the zone of the data, not the server's (UTC here would be three hours behind)."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        store = desk.DeskStore(tmp_path / "desk.sqlite")
        customer_id = small_db.row("SELECT min(customer_id) FROM customers")[0]
        store.log_call(customer_id, "test-agent", "delivery", "escalated", "")
        stamped = store.customer_desk(customer_id).calls["called_at"][0]
        istanbul = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=3)
        assert abs(stamped - istanbul) < timedelta(seconds=5)
    finally:
        monkeypatch.undo()
        time.tzset()
