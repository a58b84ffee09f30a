"""The wrap-up area of the customer page, driven as an agent would: each form saves whole or not at
all, a refusal says why and keeps what was typed, a save is audited and confirmed, and two agents
saving one complaint cannot overwrite each other."""
import sqlite3
from datetime import datetime, timedelta

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from crm360 import clock, desk, wrapup_view
from crm360.access import User
from crm360.queries import desk as desk_queries
from tests.conftest import sign_in_session
from tests.shown import as_shown

# The wrap-up as the customer page calls it, for the customer in the URL.
SCRIPT = """
import streamlit as st
from crm360 import session, ui, wrapup_view
from crm360.queries import customer as queries
user = session.require("customer")
db = ui.database()
record = queries.load_customer(db, int(st.query_params["customer"]))
wrapup_view.show_wrapup(db, record, user)
"""
AGENT = User("test-agent", "agent")


@pytest.fixture
def desk_path(small_db_path, monkeypatch, tmp_path):
    monkeypatch.delenv("CRM_AUTH", raising=False)
    monkeypatch.setenv("CRM_DB", str(small_db_path))
    monkeypatch.setenv("CRM_DESK", str(tmp_path / "desk.sqlite"))
    return tmp_path / "desk.sqlite"


@pytest.fixture
def customer(small_db) -> int:
    """A customer with completed orders and no open complaint."""
    return small_db.row("""SELECT customer_id FROM customer_summary WHERE orders >= 2 AND open_complaints = 0
                           ORDER BY customer_id LIMIT 1""")[0]


def wrapup(customer_id: int, user: User = AGENT) -> AppTest:
    app = AppTest.from_string(SCRIPT, default_timeout=60)
    sign_in_session(app, user)
    app.query_params["customer"] = str(customer_id)
    app.run()
    assert not app.exception, app.exception
    return app


def save(app: AppTest, label: str) -> AppTest:
    next(b for b in app.button if b.label == label).click().run()
    assert not app.exception, app.exception
    return app


def errors(app: AppTest) -> str:
    return "\n".join(as_shown(e.value) for e in app.error)


def successes(app: AppTest) -> str:
    return "\n".join(as_shown(s.value) for s in app.success)


def rows(path, table: str) -> list[tuple]:
    with sqlite3.connect(path) as con:
        return con.execute(f"SELECT * FROM {table}").fetchall()


def audited(action: str) -> list[tuple[str, list[int], dict]]:
    """(user, customers, detail) of each entry of the action, oldest first."""
    from crm360 import session
    from crm360.audit import AuditLog

    session.flush_audit()  # the app writes its entries on a background thread
    log = AuditLog()
    return [(e.user_name, log.customers_of(e.entry_id), e.detail) for e in reversed(log.search(action=action))]


def key(form: str, field: str, customer_id: int, saved: int = 0) -> str:
    """A wrap-up widget's key; a form saved `saved` times has new keys (drawn empty in the browser)."""
    return f"wrapup-{form}-{field}-{customer_id}" + (f"-{saved}" if saved else "")


# --- log the call --------------------------------------------------------------------------------

def fill_call(app: AppTest, customer_id: int, *, reason="billing", outcome="resolved_first_contact",
              note="Asked about the second instalment") -> None:
    if reason:
        app.selectbox(key=key("call", "reason", customer_id)).set_value(reason)
    if outcome:
        app.radio(key=key("call", "outcome", customer_id)).set_value(outcome)
    app.text_area(key=key("call", "note", customer_id)).input(note)


def test_a_logged_call_is_saved_audited_confirmed_and_the_form_empties(desk_path, customer):
    app = wrapup(customer)
    fill_call(app, customer, note="<b>Fatura</b>'; DROP TABLE calls; --")
    save(app, "Save the call")
    assert not app.error
    call = desk.DeskStore(desk_path).customer_desk(customer).calls.row(0, named=True)
    assert (call["agent"], call["reason"], call["outcome"], call["note"]) == (
        "test-agent", "billing", "resolved_first_contact", "<b>Fatura</b>'; DROP TABLE calls; --")
    assert f"Call #{call['call_id']} logged (Resolved on first contact)." in successes(app)
    assert app.text_area(key=key("call", "note", customer, saved=1)).value == ""
    assert app.selectbox(key=key("call", "reason", customer, saved=1)).value is None
    assert audited("call_logged") == [("test-agent", [customer], {
        "call_id": call["call_id"], "reason": "billing", "outcome": "resolved_first_contact",
        "follow_up_owner": None, "follow_up_due": None})]


def test_a_call_with_a_follow_up_makes_a_task_for_the_chosen_owner(desk_path, small_db, customer):
    sign_in_session(AppTest.from_string("", default_timeout=5), User("test-colleague", "agent"))
    app = wrapup(customer)
    assert app.selectbox(key=key("call", "owner", customer)).options[0] == "test-agent"  # the agent by default
    fill_call(app, customer, outcome="follow_up_needed")
    app.checkbox(key=key("call", "with-task", customer)).check()
    due = clock.wall().date() + timedelta(days=2)
    app.date_input(key=key("call", "due-date", customer)).set_value(due)
    app.selectbox(key=key("call", "owner", customer)).set_value("test-colleague")
    app.text_input(key=key("call", "task-note", customer)).input("Call back about the refund")
    save(app, "Save the call")
    assert not app.error
    task = desk.DeskStore(desk_path).tasks(owner="test-colleague").row(0, named=True)
    assert task["customer_id"] == customer and task["note"] == "Call back about the refund"
    assert task["due_at"] == datetime.combine(due, wrapup_view.DEFAULT_DUE)  # as typed: Istanbul, like the data
    assert f"Follow-up for test-colleague, due {due:%d.%m.%Y} 10:00." in successes(app)


@pytest.mark.parametrize(("fill", "message"), [
    ({"outcome": None}, "Choose the outcome of the call."),
    ({"reason": None}, "Choose the reason for the call."),
    ({"note": "x" * 100_000}, "The note is 100,000 characters; 4,000 at most."),
    ({"outcome": "follow_up_needed"}, "'Follow-up needed' needs the follow-up task"),
    ({"task_note": "Call her back on Monday"}, "'Add a follow-up task' is not ticked"),
])
def test_a_bad_call_is_refused_with_nothing_saved_and_nothing_lost(desk_path, customer, fill, message):
    app = wrapup(customer)
    typed = {"reason": "delivery", "outcome": "escalated", "note": "Kargo gecikti, müşteri çok kızgın"} | fill
    task_note = typed.pop("task_note", None)
    fill_call(app, customer, **typed)
    if task_note:  # the task's details typed, its box left unticked: the colleague would never get it
        app.text_input(key=key("call", "task-note", customer)).input(task_note)
    save(app, "Save the call")
    assert message in errors(app)
    assert rows(desk_path, "calls") == [] and rows(desk_path, "tasks") == []
    assert app.text_area(key=key("call", "note", customer)).value == typed["note"]
    assert app.selectbox(key=key("call", "reason", customer)).value == typed["reason"]
    assert app.radio(key=key("call", "outcome", customer)).value == typed["outcome"]
    assert not audited("call_logged")


def test_a_follow_up_due_in_the_past_is_refused_and_kept(desk_path, small_db, customer):
    app = wrapup(customer)
    fill_call(app, customer, outcome="follow_up_needed")
    app.checkbox(key=key("call", "with-task", customer)).check()
    yesterday = clock.wall().date() - timedelta(days=1)
    app.date_input(key=key("call", "due-date", customer)).set_value(yesterday)
    save(app, "Save the call")
    assert f"The follow-up is due {yesterday:%d.%m.%Y} 10:00, which has passed" in errors(app)
    assert rows(desk_path, "calls") == [] and rows(desk_path, "tasks") == []
    assert app.date_input(key=key("call", "due-date", customer)).value == yesterday
    assert app.checkbox(key=key("call", "with-task", customer)).value


def test_what_is_typed_stays_with_its_customer(desk_path, small_db, customer):
    other = small_db.row("SELECT min(customer_id) FROM customers WHERE customer_id > ?", [customer])[0]
    app = wrapup(customer)
    app.text_area(key=key("call", "note", customer)).input("half a note")
    app.query_params["customer"] = str(other)
    app.run()
    assert app.text_area(key=key("call", "note", other)).value == ""


# --- open a complaint ------------------------------------------------------------------------------

def fill_complaint(app: AppTest, customer_id: int, product_id: int | None, description="Ekran kırık geldi") -> None:
    app.selectbox(key=key("complaint", "category", customer_id)).set_value("defective_product")
    app.selectbox(key=key("complaint", "severity", customer_id)).set_value("high")
    if product_id is not None:
        app.selectbox(key=key("complaint", "product", customer_id)).set_value(product_id)
    app.text_area(key=key("complaint", "description", customer_id)).input(description)


def test_a_complaint_opened_on_the_call_starts_its_clock_at_once(desk_path, small_db, customer):
    bought = small_db.row("SELECT product_id FROM purchases WHERE customer_id = ? ORDER BY ordered_at DESC LIMIT 1",
                          [customer])[0]
    app = wrapup(customer)
    product = app.selectbox(key=key("complaint", "product", customer))
    assert product.options[0].endswith(f"#{bought}") or any(o.endswith(f"#{bought}") for o in product.options[:20])
    fill_complaint(app, customer, bought)
    save(app, "Open the complaint")
    assert not app.error
    complaint = desk.DeskStore(desk_path).customer_desk(customer).complaints.row(0, named=True)
    assert (complaint["category"], complaint["severity"], complaint["product_id"], complaint["agent"]) == (
        "defective_product", "high", bought, "test-agent")
    opened = complaint["opened_at"]
    assert abs(opened - clock.wall()) < timedelta(seconds=30)  # the real time in Istanbul, for KPIs and hand-off
    assert clock.now(small_db) == opened  # and the page's now from then on: 0 hours old, not in the future
    assert (f"Complaint #{complaint['complaint_id']} opened at {opened:%H:%M}: the first answer is due by "
            f"{opened + timedelta(hours=24):%d.%m.%Y %H:%M}") in successes(app)
    assert audited("complaint_opened")[-1][:2] == ("test-agent", [customer])
    # It is open at once, so it can be updated on the same call.
    assert app.selectbox(key=key("update", "which", customer)).value == complaint["complaint_id"]


def test_a_complaint_on_an_unknown_product_is_refused_and_kept(desk_path, customer, monkeypatch):
    # A product list drawn before a load that dropped the product: the save checks the loaded data.
    listed = desk_queries.products
    monkeypatch.setattr(desk_queries, "products", lambda db: pl.concat([listed(db), pl.DataFrame(
        {"product_id": [999_999_999], "name": ["Withdrawn phone"], "category": ["Elektronik"]})]))
    app = wrapup(customer)
    fill_complaint(app, customer, 999_999_999)
    save(app, "Open the complaint")
    assert "There is no product #999999999" in errors(app)
    assert rows(desk_path, "complaints") == [] and rows(desk_path, "changes") == []
    assert app.text_area(key=key("complaint", "description", customer)).value == "Ekran kırık geldi"
    assert app.selectbox(key=key("complaint", "product", customer)).value == 999_999_999


def test_a_complaint_without_a_description_or_category_is_refused(desk_path, customer):
    app = wrapup(customer)
    app.text_area(key=key("complaint", "description", customer)).input("   ")
    save(app, "Open the complaint")
    assert "Choose the complaint's category." in errors(app)
    fill_complaint(app, customer, None, description="   ")
    save(app, "Open the complaint")
    assert "The description is empty" in errors(app)
    assert rows(desk_path, "complaints") == []


# --- update a complaint ----------------------------------------------------------------------------

@pytest.fixture
def open_complaint(small_db) -> tuple[int, int, int]:
    """(customer, complaint, product) of a loaded complaint still open, on a product the customer bought."""
    return small_db.row("""SELECT c.customer_id, c.complaint_id, c.product_id FROM complaints c
                           WHERE c.status <> 'resolved' AND c.product_id IN (
                               SELECT product_id FROM purchases p WHERE p.customer_id = c.customer_id
                               AND p.status = 'completed')
                           ORDER BY c.complaint_id LIMIT 1""")


def update_form(app: AppTest, customer_id: int, complaint_id: int, *, resolution: str | None = None,
                refund: float | str | None = None) -> None:
    app.selectbox(key=key("update", "which", customer_id)).set_value(complaint_id).run()
    if resolution is not None:
        app.checkbox(key=key("update", f"resolved-{complaint_id}", customer_id)).check()
        app.text_area(key=key("update", f"resolution-{complaint_id}", customer_id)).input(resolution)
    if refund is not None:
        typed = refund if isinstance(refund, str) else f"{refund:.2f}".replace(".", ",")  # as a Turkish agent types it
        app.text_input(key=key("update", f"refund-{complaint_id}", customer_id)).input(typed)


def test_a_loaded_complaint_is_resolved_with_a_refund_and_leaves_the_list(desk_path, small_db, open_complaint):
    customer_id, complaint_id, product_id = open_complaint
    paid = float(small_db.row("""SELECT sum(net_amount_try) FROM purchases WHERE customer_id = ? AND product_id = ?
                                 AND status IN ('completed', 'returned')""", [customer_id, product_id])[0])
    app = wrapup(customer_id)
    update_form(app, customer_id, complaint_id, resolution="Replaced the product", refund=round(paid / 2, 2))
    save(app, "Save the update")
    assert not app.error
    saved = desk.DeskStore(desk_path).customer_desk(customer_id).complaints.row(0, named=True)
    assert (saved["complaint_id"], saved["origin"], saved["resolution"], saved["refund_try"]) == (
        complaint_id, "loaded", "Replaced the product", round(paid / 2, 2))
    assert saved["resolved_at"] is not None
    assert f"Complaint #{complaint_id} updated: resolved, refund of" in successes(app)
    still_listed = [o for s in app.selectbox if s.key == key("update", "which", customer_id) for o in s.options]
    assert not any(o.startswith(f"#{complaint_id} ") for o in still_listed)
    assert audited("complaint_updated")[-1][:2] == ("test-agent", [customer_id])


def test_a_refund_larger_than_the_order_is_refused_and_kept(desk_path, open_complaint):
    customer_id, complaint_id, _ = open_complaint
    app = wrapup(customer_id)
    update_form(app, customer_id, complaint_id, resolution="Paid back", refund=10_000_000.0)
    save(app, "Save the update")
    assert "A refund of 10,000,000.00 TRY is more than the customer paid" in errors(app)
    assert rows(desk_path, "complaints") == []
    assert app.text_input(key=key("update", f"refund-{complaint_id}", customer_id)).value == "10000000,00"
    assert app.text_area(key=key("update", f"resolution-{complaint_id}", customer_id)).value == "Paid back"


def test_a_refund_typed_with_a_turkish_comma_is_that_amount_and_an_unclear_one_is_refused(desk_path, open_complaint):
    """49,90 is forty-nine lira ninety (a number box made it 4990); 1.234 could be either and is refused."""
    customer_id, complaint_id, _ = open_complaint
    app = wrapup(customer_id)
    update_form(app, customer_id, complaint_id, refund="1.234")
    save(app, "Save the update")
    assert "could be 1234 or 1,234" in errors(app) and rows(desk_path, "complaints") == []
    app.text_input(key=key("update", f"refund-{complaint_id}", customer_id)).input("0,90")
    save(app, "Save the update")
    assert not app.error
    assert desk.DeskStore(desk_path).customer_desk(customer_id).complaints["refund_try"].to_list() == [0.9]


def test_a_resolution_needs_its_text_and_its_tick(desk_path, open_complaint):
    customer_id, complaint_id, _ = open_complaint
    app = wrapup(customer_id)
    update_form(app, customer_id, complaint_id)
    app.checkbox(key=key("update", f"resolved-{complaint_id}", customer_id)).check()
    save(app, "Save the update")
    assert "Write the resolution" in errors(app)
    app.checkbox(key=key("update", f"resolved-{complaint_id}", customer_id)).uncheck()
    app.text_area(key=key("update", f"resolution-{complaint_id}", customer_id)).input("Sent a new one")
    save(app, "Save the update")
    assert "Tick 'Resolved' to save the resolution" in errors(app)
    assert rows(desk_path, "complaints") == []


def test_two_agents_saving_one_complaint_the_second_is_told_and_keeps_their_text(desk_path, open_complaint):
    customer_id, complaint_id, _ = open_complaint
    first, second = wrapup(customer_id), wrapup(customer_id, User("test-agent-2", "agent"))
    update_form(first, customer_id, complaint_id, resolution="Refund agreed")
    update_form(second, customer_id, complaint_id, resolution="Sent a replacement")
    save(first, "Save the update")
    assert not first.error
    save(second, "Save the update")
    assert f"Complaint #{complaint_id} was changed by test-agent" in errors(second)
    assert f"Complaint #{complaint_id} has been resolved since you chose it." in "".join(
        as_shown(w.value) for w in second.warning)
    assert second.text_area(key=key("update", f"resolution-{complaint_id}", customer_id)).value == "Sent a replacement"
    saved = rows(desk_path, "complaints")
    assert len(saved) == 1 and "Refund agreed" in saved[0]
    assert len(audited("complaint_updated")) == 1
    save(second, "Save the update")  # "save to add yours to it": added, not a crash
    assert not second.exception
    [resolution] = [r[0] for r in sqlite3.connect(desk_path).execute("SELECT resolution FROM complaints")]
    assert "Refund agreed" in resolution and "Sent a replacement" in resolution


def test_the_open_list_applies_what_calls_changed():
    record = type("Record", (), {})()
    record.complaints = pl.DataFrame({
        "complaint_id": [1, 2, 3], "opened_at": [datetime(2026, 6, d) for d in (1, 2, 3)],
        "category": ["late_delivery"] * 3, "severity": ["low"] * 3, "product_id": [None, 5, 6],
        "first_response_at": [None, None, datetime(2026, 6, 3)], "status": ["open", "open", "resolved"],
        "refund_amount_try": [None, None, None]}, schema_overrides={"product_id": pl.Int64,
                                                                     "refund_amount_try": pl.Float64})
    store_rows = [
        (1, "loaded", None, None, datetime(2026, 6, 2), None, None),   # answered on a call
        (2, "loaded", None, None, datetime(2026, 6, 3), datetime(2026, 6, 3), 50.0),  # resolved on a call
        (desk.DESK_ID_BASE + 1, "desk", "rude_staff", datetime(2026, 6, 4), None, None, None)]
    complaints = pl.DataFrame([{name: None for name in desk.COMPLAINT_SCHEMA} | dict(zip(
        ("complaint_id", "origin", "category", "opened_at", "first_response_at", "resolved_at", "refund_try"), r,
        strict=True)) for r in store_rows], schema=desk.COMPLAINT_SCHEMA)
    empty = {name: pl.DataFrame(schema=schema) for name, schema in (
        ("calls", desk.CALL_SCHEMA), ("tasks", desk.TASK_SCHEMA), ("consent", desk.CONSENT_SCHEMA))}
    mine = desk.DeskRecord(complaints=complaints, **empty)
    from crm360.wrapup_view import open_complaints

    listed = open_complaints(record, mine)
    assert listed["complaint_id"].to_list() == [1, desk.DESK_ID_BASE + 1]
    assert listed["answered"].to_list() == [True, False]
    # The complaint an agent has in the form stays listed, marked resolved, when a colleague resolves it.
    kept = open_complaints(record, mine, keep=2)
    assert kept["complaint_id"].to_list() == [1, 2, desk.DESK_ID_BASE + 1]
    assert kept["resolved"].to_list() == [False, True, False]
    # A record the page already overlaid with the desk's own complaint lists it once.
    overlaid = pl.concat([record.complaints, pl.DataFrame({
        "complaint_id": [desk.DESK_ID_BASE + 1], "opened_at": [datetime(2026, 6, 4)], "category": ["rude_staff"],
        "severity": [None], "product_id": [None], "first_response_at": [None], "status": ["open"],
        "refund_amount_try": [None]})], how="vertical_relaxed")
    record.complaints = overlaid
    assert open_complaints(record, mine)["complaint_id"].to_list() == [1, desk.DESK_ID_BASE + 1]


# --- consent -------------------------------------------------------------------------------------

def test_a_withdrawal_needs_its_channel_and_is_recorded_as_from_the_call(desk_path, customer):
    app = wrapup(customer)
    app.radio(key=key("consent", "action", customer)).set_value("withdraw")
    save(app, "Record it")
    assert "Choose the channel." in errors(app)
    assert rows(desk_path, "consent_changes") == []
    assert app.radio(key=key("consent", "action", customer)).value == "withdraw"
    app.radio(key=key("consent", "channel", customer)).set_value("sms")
    save(app, "Record it")
    change = desk.DeskStore(desk_path).customer_desk(customer).consent.row(0, named=True)
    assert (change["channel"], change["given"], change["do_not_contact"], change["source"], change["agent"]) == (
        "sms", False, False, "agent call", "test-agent")
    assert "SMS consent withdrawn" in successes(app)
    assert audited("consent_changed")[-1][:2] == ("test-agent", [customer])


def test_a_do_not_contact_request_needs_no_channel(desk_path, customer):
    app = wrapup(customer)
    app.radio(key=key("consent", "action", customer)).set_value("do_not_contact")
    save(app, "Record it")
    change = desk.DeskStore(desk_path).customer_desk(customer).consent.row(0, named=True)
    assert (change["channel"], change["do_not_contact"]) == (None, True)
    assert "do not contact" in successes(app)


def test_a_change_that_changes_nothing_is_refused(desk_path, customer):
    """Withdrawing what is already withdrawn (or a second do-not-contact) would tell the systems of
    record the same thing twice: the agent is told instead."""
    app = wrapup(customer)
    for _ in range(2):
        app.radio(key=key("consent", "action", customer, saved=_)).set_value("withdraw")
        app.radio(key=key("consent", "channel", customer, saved=_)).set_value("sms")
        save(app, "Record it")
    assert "There is no SMS consent to withdraw" in errors(app)
    assert len(rows(desk_path, "consent_changes")) == 1
