"""The agent desk store: a wrap-up is saved whole or not at all, every write lands in the change log,
two agents saving one complaint cannot overwrite each other, and bad input is refused with a reason."""
import sqlite3
import threading
from datetime import datetime, timedelta

import polars as pl
import pytest

from crm360.desk import (
    CALL_REASONS,
    DESK_ID_BASE,
    MAX_NOTE_CHARS,
    DeskError,
    DeskStore,
    FollowUp,
    check_against_database,
)
from seed import reference

NOW = datetime(2026, 6, 30, 12, 0)
CUSTOMER = 1_000_042


@pytest.fixture
def store(tmp_path) -> DeskStore:
    return DeskStore(tmp_path / "desk.sqlite")


def counts(store: DeskStore) -> dict[str, int]:
    with sqlite3.connect(store.path) as con:
        return {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("calls", "tasks", "complaints", "consent_changes", "changes")}


def test_call_reasons_are_the_topics_the_interactions_use():
    assert set(CALL_REASONS) == set(reference.TOPICS)


def test_a_call_with_a_follow_up_is_one_call_one_task_and_two_changes(store):
    call_id = store.log_call(CUSTOMER, "deniz", "billing", "follow_up_needed", "Fatura tutarı soruldu",
                             follow_up=FollowUp(NOW + timedelta(days=1), "deniz", "Geri ara"), now=NOW)
    assert call_id == DESK_ID_BASE + 1
    desk = store.customer_desk(CUSTOMER)
    assert desk.calls.select("reason", "outcome", "note", "channel").row(0) == (
        "billing", "follow_up_needed", "Fatura tutarı soruldu", "phone")
    task = desk.tasks.row(0, named=True)
    assert (task["call_id"], task["due_at"], task["owner"], task["done_at"]) == (
        call_id, NOW + timedelta(days=1), "deniz", None)
    assert desk.calls["task_id"][0] == task["task_id"]
    rows, cursor = store.changes(0)
    assert [r["kind"] for r in rows] == ["call_logged", "task_created"]
    assert cursor == rows[-1]["cursor"] == store.last_cursor()
    assert store.customer_desk(CUSTOMER + 1).empty


def test_follow_ups_by_owner_and_due_time_and_done(store):
    store.log_call(CUSTOMER, "deniz", "delivery", "follow_up_needed", "",
                   follow_up=FollowUp(NOW + timedelta(hours=2), "deniz", "a"), now=NOW)
    store.log_call(CUSTOMER + 1, "deniz", "delivery", "follow_up_needed", "",
                   follow_up=FollowUp(NOW + timedelta(days=3), "ayse", "b"), now=NOW)
    assert store.tasks("deniz")["note"].to_list() == ["a"]
    assert store.tasks(None)["note"].to_list() == ["a", "b"]
    assert store.tasks(None, due_before=NOW + timedelta(days=1))["note"].to_list() == ["a"]
    task_id = store.tasks("deniz")["task_id"][0]
    store.complete_task(task_id, "deniz", now=NOW + timedelta(hours=1))
    assert store.tasks("deniz").is_empty()
    assert store.tasks("deniz", open_only=False)["done_at"][0] == NOW + timedelta(hours=1)
    with pytest.raises(DeskError, match="already done"):
        store.complete_task(task_id, "deniz")
    with pytest.raises(DeskError, match="no follow-up task"):
        store.complete_task(999, "deniz")


def test_a_complaint_opened_at_the_desk_and_updated(store):
    complaint_id = store.open_complaint(CUSTOMER, "deniz", "late_delivery", "high", 7, "Kargo gelmedi", now=NOW)
    assert complaint_id > DESK_ID_BASE
    row = store.customer_desk(CUSTOMER).complaints.row(0, named=True)
    assert (row["origin"], row["opened_at"], row["first_response_at"], row["version"]) == ("desk", NOW, None, 1)
    version = store.update_complaint(complaint_id, "deniz", answered=True, expected_version=1,
                                     now=NOW + timedelta(hours=1))
    version = store.update_complaint(complaint_id, "ayse", resolution="Kargo hızlandırıldı", refund_try=50,
                                     expected_version=version, now=NOW + timedelta(hours=3))
    row = store.customer_desk(CUSTOMER).complaints.row(0, named=True)
    assert (row["first_response_at"], row["resolved_at"], row["resolution"], row["refund_try"], row["version"]) == (
        NOW + timedelta(hours=1), NOW + timedelta(hours=3), "Kargo hızlandırıldı", 50.0, 3)
    assert [r["kind"] for r in store.changes(0)[0]] == ["complaint_opened", "complaint_updated", "complaint_updated"]


def test_a_second_resolution_adds_to_the_first_which_keeps_its_time(store):
    """Two agents resolving the same complaint one after the other: the second's account is added,
    and the complaint stays resolved when it first was (no one's resolution overwritten)."""
    complaint_id = store.open_complaint(CUSTOMER, "deniz", "late_delivery", "high", 7, "Kargo gelmedi", now=NOW)
    first = NOW + timedelta(hours=2)
    version = store.update_complaint(complaint_id, "deniz", resolution="Kargo bulundu", expected_version=1, now=first)
    store.update_complaint(complaint_id, "ayse", resolution="İade de yapıldı", expected_version=version,
                           now=NOW + timedelta(hours=5))
    row = store.customer_desk(CUSTOMER).complaints.row(0, named=True)
    assert row["resolved_at"] == first
    assert row["resolution"] == f"Kargo bulundu\nayse, {NOW + timedelta(hours=5)}: İade de yapıldı"
    assert store.changes(0)[0][-1]["data"]["resolution"] == row["resolution"]


def test_a_complaint_opened_after_a_loaded_one_was_updated_takes_a_desk_number(store):
    """The desk keeps updates of loaded complaints under their loaded numbers; a new complaint's
    number must still come from the desk's own range, never next to a loaded one (another
    customer's)."""
    store.update_complaint(2238, "deniz", answered=True, customer_id=CUSTOMER, expected_version=0, now=NOW)
    opened = store.open_complaint(CUSTOMER + 1, "deniz", "late_delivery", "medium", None, "Gecikti", now=NOW)
    assert opened == DESK_ID_BASE + 1
    store.update_complaint(opened, "deniz", answered=True, expected_version=1, now=NOW)  # and it can be updated


def test_a_loaded_complaint_is_updated_as_an_event_of_its_own(store):
    assert store.complaint_version(123) == 0
    with pytest.raises(DeskError, match="say whose"):
        store.update_complaint(123, "deniz", answered=True)
    store.update_complaint(123, "deniz", answered=True, customer_id=CUSTOMER, expected_version=0, now=NOW)
    row = store.customer_desk(CUSTOMER).complaints.row(0, named=True)
    assert (row["complaint_id"], row["origin"], row["first_response_at"], row["version"]) == (123, "loaded", NOW, 1)
    with pytest.raises(DeskError, match="not #"):
        store.update_complaint(123, "deniz", answered=True, customer_id=CUSTOMER + 1)


def test_two_agents_saving_the_same_complaint_the_second_is_told_and_nothing_is_lost(store):
    complaint_id = store.open_complaint(CUSTOMER, "deniz", "billing_error", "medium", None, "Fazla çekim", now=NOW)
    both_read = store.complaint_version(complaint_id)
    store.update_complaint(complaint_id, "deniz", resolution="İade edildi", expected_version=both_read, now=NOW)
    before = counts(store)
    with pytest.raises(DeskError, match=r"changed by deniz .* Nothing of yours was saved"):
        store.update_complaint(complaint_id, "ayse", resolution="Başka çözüm", expected_version=both_read, now=NOW)
    assert counts(store) == before
    assert store.customer_desk(CUSTOMER).complaints["resolution"].to_list() == ["İade edildi"]


def test_two_agents_at_the_same_moment_one_wins_one_is_told(store):
    complaint_id = store.open_complaint(CUSTOMER, "deniz", "billing_error", "medium", None, "Fazla çekim", now=NOW)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def save(agent: str) -> None:
        start.wait()
        try:
            store.update_complaint(complaint_id, agent, resolution=f"by {agent}", expected_version=1)
            outcomes.append("saved")
        except DeskError:
            outcomes.append("refused")

    threads = [threading.Thread(target=save, args=(agent,)) for agent in ("deniz", "ayse")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "saved"]
    assert store.customer_desk(CUSTOMER).complaints["version"].to_list() == [2]


def test_consent_changes_and_do_not_contact_are_kept_with_their_source(store):
    store.record_consent(CUSTOMER, "deniz", "sms", False, now=NOW)
    store.record_consent(CUSTOMER, "deniz", None, False, do_not_contact=True, now=NOW + timedelta(minutes=1))
    consent = store.customer_desk(CUSTOMER).consent
    assert consent.select("channel", "given", "do_not_contact", "source").rows() == [
        ("sms", False, False, "agent call"), (None, None, True, "agent call")]
    assert store.consent_since(0).height == 2
    assert store.consent_since(consent["cursor"][0]).height == 1


def test_the_change_log_cursor_pages_without_gaps_or_repeats(store):
    for minute in range(5):
        store.record_consent(CUSTOMER, "deniz", "email", minute % 2 == 0, now=NOW + timedelta(minutes=minute))
    first, cursor = store.changes(0, limit=2)
    rest, last = store.changes(cursor)
    assert [r["cursor"] for r in first + rest] == sorted({r["cursor"] for r in first + rest})
    assert len(first + rest) == 5 and last == store.last_cursor()
    assert store.changes(last) == ([], last)
    assert store.changes(0, limit=2) == (first, cursor)  # the same cursor gives the same changes


LATER = FollowUp(NOW + timedelta(days=1), "deniz", "")


@pytest.mark.parametrize(("write", "message"), [
    (lambda s: s.log_call(CUSTOMER, "deniz", "billing", "", "note", now=NOW), "Choose the call outcome"),
    (lambda s: s.log_call(CUSTOMER, "deniz", "billing", "happy", "note", now=NOW), "not a call outcome"),
    (lambda s: s.log_call(CUSTOMER, "deniz", "weather", "escalated", "note", now=NOW), "not a call reason"),
    (lambda s: s.log_call(CUSTOMER, "deniz", "billing", "escalated", "x" * 100_000, now=NOW),
     f"100,000 characters; {MAX_NOTE_CHARS:,} at most"),
    (lambda s: s.log_call(CUSTOMER, "deniz", "billing", "escalated", "n", now=NOW,
                          follow_up=FollowUp(NOW - timedelta(minutes=1), "deniz", "")), "has passed"),
    (lambda s: s.log_call(CUSTOMER, "deniz", "billing", "escalated", "n", now=NOW,
                          follow_up=FollowUp(NOW + timedelta(days=1), " ", "")), "follow-up owner is empty"),
    (lambda s: s.log_call(-5, "deniz", "billing", "escalated", "n", now=NOW), "not a customer number"),
    (lambda s: s.log_call("1 OR 1=1", "deniz", "billing", "escalated", "n", now=NOW), "not a customer number"),
    (lambda s: s.open_complaint(CUSTOMER, "deniz", "late_delivery", "high", None, "  ", now=NOW),
     "description is empty"),
    (lambda s: s.open_complaint(CUSTOMER, "deniz", "aliens", "high", None, "d", now=NOW), "not a complaint category"),
    (lambda s: s.open_complaint(CUSTOMER, "deniz", "late_delivery", "urgent", None, "d", now=NOW), "not a severity"),
    (lambda s: s.update_complaint(DESK_ID_BASE + 99, "deniz", answered=True), "no complaint"),
    (lambda s: s.update_complaint(5, "deniz", customer_id=CUSTOMER), "Nothing to save"),
    (lambda s: s.update_complaint(5, "deniz", refund_try=-3.0, customer_id=CUSTOMER), "cannot be negative"),
    (lambda s: s.update_complaint(5, "deniz", refund_try=float("nan"), customer_id=CUSTOMER), "not an amount"),
    (lambda s: s.record_consent(CUSTOMER, "deniz", "fax", False), "not a consent channel"),
    (lambda s: s.record_consent(CUSTOMER, "deniz", None, False), "Choose the channel"),
])
def test_bad_input_is_refused_with_a_reason_and_nothing_is_saved(store, write, message):
    before = counts(store)
    with pytest.raises(DeskError, match=message):
        write(store)
    assert counts(store) == before


def test_sql_and_html_in_text_are_kept_as_text(store):
    note = "'); DROP TABLE calls; -- <script>alert(1)</script> **bold**"
    store.log_call(CUSTOMER, "deniz", "account", "escalated", note, now=NOW)
    assert store.customer_desk(CUSTOMER).calls["note"].to_list() == [note]
    assert store.changes(0)[0][0]["data"]["note"] == note


def test_a_failure_inside_the_transaction_leaves_nothing_half_saved(store, monkeypatch):
    """The task is written after the call and its log row: if it fails, neither stays."""
    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")
    monkeypatch.setattr(DeskStore, "_insert_task", broken)
    with pytest.raises(sqlite3.OperationalError):
        store.log_call(CUSTOMER, "deniz", "billing", "follow_up_needed", "n", follow_up=LATER, now=NOW)
    assert counts(store) == dict.fromkeys(("calls", "tasks", "complaints", "consent_changes", "changes"), 0)


def test_checks_against_the_loaded_data(small_db):
    customer, product, paid = small_db.row(
        """SELECT customer_id, product_id, sum(net_amount_try) FROM purchases WHERE status = 'completed'
           GROUP BY ALL ORDER BY customer_id, product_id LIMIT 1""")
    check_against_database(small_db, customer, product_id=product, refund_try=float(paid))
    with pytest.raises(DeskError, match="no customer #999999999"):
        check_against_database(small_db, 999_999_999)
    with pytest.raises(DeskError, match="no product #987654"):
        check_against_database(small_db, customer, product_id=987_654)
    with pytest.raises(DeskError, match="more than the customer paid"):
        check_against_database(small_db, customer, product_id=product, refund_try=float(paid) + 1)
    other = small_db.row("SELECT complaint_id FROM complaints WHERE customer_id <> ? LIMIT 1", [customer])[0]
    with pytest.raises(DeskError, match=f"has no complaint #{other}"):
        check_against_database(small_db, customer, complaint_id=other)


# --- shown at once: the customer page and every marketing list, before any ETL run -------------

def test_desk_writes_show_at_once_on_the_customer_record(small_db, tmp_path, monkeypatch):
    from crm360.queries.customer import load_customer
    from crm360.record import open_complaints, timeline
    monkeypatch.setenv("CRM_DESK", str(tmp_path / "desk.sqlite"))
    customer = small_db.row("""SELECT customer_id FROM customer_summary WHERE consent_sms AND NOT do_not_contact
                               AND open_complaints = 0 ORDER BY customer_id LIMIT 1""")[0]
    before = load_customer(small_db, customer)
    now = datetime(2026, 6, 30, 11, 0)
    desk = DeskStore(tmp_path / "desk.sqlite")
    call = desk.log_call(customer, "deniz", "billing", "escalated", "<b>Fatura</b> itirazı", now=now)
    complaint = desk.open_complaint(customer, "deniz", "billing_error", "high", None, "Fazla çekim", now=now)
    desk.record_consent(customer, "deniz", "sms", False, now=now)
    after = load_customer(small_db, customer)
    assert after.interactions.height == before.interactions.height + 1
    assert after.interactions.filter(pl.col("interaction_id") == call)["notes"].to_list() == ["<b>Fatura</b> itirazı"]
    alert = open_complaints(after, datetime(2026, 6, 30, 12, 0)).row(0, named=True)
    assert (alert["complaint_id"], alert["promise_state"], alert["age_hours"]) == (complaint, "due", 1.0)
    assert (after.profile["open_complaints"], after.profile["consent_sms"]) == (1, False)
    assert {"contact", "complaint"} <= set(timeline(after).filter(
        pl.col("source_id").is_in([call, complaint]))["kind"].to_list())
    desk.update_complaint(complaint, "ayse", resolution="İade edildi", expected_version=1, now=now + timedelta(hours=2))
    resolved = load_customer(small_db, customer)
    assert resolved.complaints.filter(pl.col("complaint_id") == complaint)["status"].to_list() == ["resolved"]
    assert resolved.profile["open_complaints"] == 0


def test_an_sms_withdrawal_leaves_the_outreach_list_campaign_reach_and_contact_list_at_once(
        small_db, tmp_path, monkeypatch):
    from crm360.outreach_rules import MARKETING
    from crm360.queries import campaign_contacts, outreach
    monkeypatch.setenv("CRM_DESK", str(tmp_path / "desk.sqlite"))
    customer = small_db.row("""SELECT customer_id FROM outreach_candidates
                               WHERE marketing AND NOT service AND marketing_channel = 'sms'
                               ORDER BY customer_id LIMIT 1""")[0]
    only_them = outreach.CandidateFilter()
    audience = outreach.campaign_audience(small_db, only_them, "sms")["customer_id"].to_list()
    listed = outreach.candidates(small_db, only_them, limit=None)
    assert customer in audience and customer in listed["customer_id"].to_list()
    reach_before = outreach.campaign_reach(small_db, only_them).reached["sms"]
    DeskStore(tmp_path / "desk.sqlite").record_consent(customer, "deniz", "sms", False, now=NOW)
    assert customer not in outreach.campaign_audience(small_db, only_them, "sms")["customer_id"].to_list()
    assert outreach.campaign_reach(small_db, only_them).reached["sms"] == reach_before - 1
    row = outreach.candidates(small_db, only_them, limit=None).filter(pl.col("customer_id") == customer)
    assert row.is_empty() or row["marketing_channel"][0] != "sms"
    member = [{"customer_id": customer, "control": 0, "contacted_at": None, "outcome": None, "reasons": ""}]
    blocked = campaign_contacts.member_reach(small_db, member, "sms", MARKETING)["blocked"].to_list()
    assert blocked == ["no_consent"]


def test_a_do_not_contact_request_takes_the_customer_off_every_list_at_once(small_db, tmp_path, monkeypatch):
    from crm360.queries import outreach, value
    monkeypatch.setenv("CRM_DESK", str(tmp_path / "desk.sqlite"))
    customer, segment = small_db.row("""SELECT customer_id, rfm_segment FROM customer_summary
                                        WHERE NOT do_not_contact AND customer_id IN
                                              (SELECT customer_id FROM outreach_candidates)
                                        ORDER BY customer_id LIMIT 1""")
    counted = value.segment_do_not_contact(small_db, segment)
    DeskStore(tmp_path / "desk.sqlite").record_consent(customer, "deniz", None, False, do_not_contact=True, now=NOW)
    listed = outreach.candidates(small_db, outreach.CandidateFilter(), limit=None)["customer_id"].to_list()
    assert customer not in listed
    assert customer not in value.segment_customers(small_db, segment, limit=100_000)["customer_id"].to_list()
    assert value.segment_do_not_contact(small_db, segment) == counted + 1


def test_a_do_not_contact_request_leaves_the_service_lists_at_once(small_db, tmp_path, monkeypatch):
    """The service lists (fixed defects to tell, overdue answers) are computed once per database
    version; a request made on a call since still takes the customer off them at the next click.
    (The small company has no unanswered complaint; both lists leave them out through one function.)"""
    from crm360.queries import outreach
    monkeypatch.setenv("CRM_DESK", str(tmp_path / "desk.sqlite"))
    fixed = outreach.fixed_issue_candidates(small_db)
    assert fixed.height
    told = fixed["customer_id"][0]
    DeskStore(tmp_path / "desk.sqlite").record_consent(told, "deniz", None, False, do_not_contact=True, now=NOW)
    assert told not in outreach.fixed_issue_candidates(small_db)["customer_id"].to_list()
    assert outreach.fixed_issue_candidates(small_db).height == fixed.filter(pl.col("customer_id") != told).height
