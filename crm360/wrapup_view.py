"""The wrap-up area of the customer page: what the agent writes back when the call ends.

Four forms, one per action: log the call (with an optional follow-up task), open a complaint,
update an open one, record what the customer asked about consent. Each is an `st.form`, so a
half-filled form is never saved; a refusal (crm360.desk.DeskError, or a check here) is shown
and the form keeps what the agent typed; a save is audited, confirmed, and the page reruns so
the timeline and the alerts show it. Pages call `show_wrapup(db, record, user)`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import polars as pl
import streamlit as st

from crm360 import clock, config, desk, session, ui
from crm360.access import User
from crm360.queries import desk as desk_queries
from crm360.record import CustomerRecord
from crm360.store import Database
from crm360.textnorm import parse_amount

# Every word the agent reads here, in one place (a later Turkish catalog replaces this dict).
TEXT = {
    "title": "Wrap-up",
    "caption": "What you write here is saved at once, shows on this page and is recorded in the audit log.",
    "tabs": ("Log the call", "Open a complaint", "Update a complaint", "Consent"),
    "reason": "Reason for the call",
    "reason_placeholder": "Choose the topic",
    "outcome": "Outcome",
    "note": "Note",
    "note_help": f"What was asked and what you did; at most {desk.MAX_NOTE_CHARS:,} characters.",
    "add_follow_up": "Add a follow-up task",
    "due_date": "Follow-up due (date)",
    "due_time": "Due time (Istanbul)",
    "owner": "Owner",
    "task_note": "What to do",
    "save_call": "Save the call",
    "need_reason": "Choose the reason for the call.",
    "need_outcome": "Choose the outcome of the call.",
    "due_passed": "The follow-up is due {due:%d.%m.%Y %H:%M}, which has passed (now {now:%H:%M} in Istanbul): "
                  "choose a later time.",
    "need_task": "'Follow-up needed' needs the follow-up task: tick 'Add a follow-up task' and say when and who, "
                 "or choose another outcome.",
    "task_unticked": "'What to do' is filled in but 'Add a follow-up task' is not ticked: tick it to make the "
                     "task, or clear 'What to do'.",
    "call_saved": "Call #{call_id} logged ({outcome}).",
    "task_saved": " Follow-up for {owner}, due {due:%d.%m.%Y %H:%M}.",
    "category": "Category",
    "severity": "Severity",
    "product": "Product",
    "product_placeholder": "No particular product (or choose one)",
    "bought_first": "Products the customer bought are listed first.",
    "description": "What the customer says",
    "save_complaint": "Open the complaint",
    "need_category": "Choose the complaint's category.",
    "need_severity": "Choose the complaint's severity.",
    "complaint_saved": "Complaint #{complaint_id} opened at {opened:%H:%M}: the first answer is due by "
                       "{due:%d.%m.%Y %H:%M} ({hours}-hour promise).",
    "no_open_complaint": "This customer has no open complaint.",
    "resolved_meanwhile": "Complaint #{complaint_id} has been resolved since you chose it. What you typed is kept "
                          "below; choose another complaint, or save to add yours to it.",
    "which_complaint": "Complaint",
    "answered": "Answered (the customer has had a first answer)",
    "already_answered": "Already answered",
    "resolved": "Resolved",
    "resolution": "Resolution",
    "refund": "Refund (TRY)",
    "refund_help": "Paid back to the customer; at most what they paid for the complaint's product (or in all).",
    "save_update": "Save the update",
    "need_resolution": "Write the resolution: what was done for the customer.",
    "resolution_unticked": "Tick 'Resolved' to save the resolution, or clear the text.",
    "complaint_updated": "Complaint #{complaint_id} updated: {what}.",
    "answered_word": "answered",
    "resolved_word": "resolved",
    "refund_word": "refund of {amount}",
    "consent_action": "The customer asks to",
    "consent_channel": "Channel",
    "save_consent": "Record it",
    "need_action": "Choose what the customer asks for.",
    "need_channel": "Choose the channel.",
    "consent_saved": "Recorded (source: agent call): {what}.",
    "already_dnc": "The customer is already on do-not-contact: nothing to record.",
    "already_given": "{channel} consent is already given: nothing to record.",
    "already_withdrawn": "There is no {channel} consent to withdraw (it is already 'no'): nothing to record.",
    "consent_recent": "Recorded on calls: ",
    "refused": "Not saved: {message}",
}
OUTCOME_LABELS = {"resolved_first_contact": "Resolved on first contact", "follow_up_needed": "Follow-up needed",
                  "escalated": "Escalated"}
REASON_LABELS = {"order_status": "Order status", "delivery": "Delivery", "return_request": "Return request",
                 "billing": "Billing", "product_info": "Product information", "technical_support": "Technical support",
                 "account": "Account", "campaign": "Campaign", "complaint": "Complaint",
                 "complaint_followup": "Complaint follow-up"}
CONSENT_ACTIONS = {"withdraw": "withdraw consent", "give": "give consent",
                   "do_not_contact": "not be contacted at all (do-not-contact)"}
CHANNEL_LABELS = {"email": "E-mail", "sms": "SMS", "phone": "Phone"}
CALL_CHANNEL = "phone"  # the wrap-up is for a call the agent took
DEFAULT_DUE = time(10, 0)  # a follow-up defaults to tomorrow morning
_SAVED = "wrapup-saved"
_SEEN_VERSIONS = "wrapup-seen-versions"


def _label(code: str) -> str:
    return code.replace("_", " ").capitalize()


def desk_store() -> desk.DeskStore:
    """The process's desk store beside the published database (created on first use)."""
    return desk.shared_store(desk.store_path())


def agent_names(user: User) -> list[str]:
    """Who may own a follow-up: the active agents, the signed-in user first (the default owner)."""
    agents = [name for name, role, _ in session.users().users() if role == "agent"]
    return [user.user_name] + [name for name in agents if name != user.user_name]


@dataclass(frozen=True)
class _Form:
    """One wrap-up form of one customer: its widget keys carry both, so a half-typed form stays
    with its customer and another customer's page starts empty."""
    name: str
    customer_id: int

    def key(self, field: str) -> str:
        base = f"wrapup-{self.name}-{field}-{self.customer_id}"
        generation = st.session_state.get(self._generation_key, 0)
        return base if generation == 0 else f"{base}-{generation}"

    @property
    def _generation_key(self) -> str:
        return f"wrapup-generation-{self.name}-{self.customer_id}"

    def clear(self) -> None:
        """Empty the form after a save. Deleting the widgets' state is not enough: the browser keeps
        showing what was typed (and a second click would save it twice), so the form's widgets get
        new keys, which the browser draws empty."""
        prefix = f"wrapup-{self.name}-"
        for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)
                    and f"-{self.customer_id}" in k]:
            del st.session_state[key]
        st.session_state[self._generation_key] = st.session_state.get(self._generation_key, 0) + 1


def _saved(form: _Form, message: str, action: str, **details: object) -> None:
    """After a save: audit it, empty the form, keep the confirmation for the rerun, rerun."""
    session.record(action, page="customer", customer_ids=[form.customer_id], **details)
    form.clear()
    st.session_state[_SAVED] = (form.customer_id, message)
    st.rerun()


def _refused(message: str) -> None:
    st.error(TEXT["refused"].format(message=ui.plain(message)), icon=":material/error:")


def show_wrapup(db: Database, record: CustomerRecord, user: User) -> None:
    """The wrap-up area for the customer on the line."""
    customer_id = record.customer_id
    store = desk_store()
    mine = store.customer_desk(customer_id)
    st.subheader(TEXT["title"], anchor=False)
    saved = st.session_state.pop(_SAVED, None)
    if saved is not None and saved[0] == customer_id:
        st.success(ui.plain(saved[1]), icon=":material/check_circle:")
    st.caption(TEXT["caption"])
    call, complaint, update, consent = st.tabs(TEXT["tabs"], key=f"wrapup-tab-{customer_id}")
    with call:
        _log_call(db, store, customer_id, user)
    with complaint:
        _open_complaint(db, store, record, user)
    with update:
        _update_complaint(db, store, record, mine, user)
    with consent:
        _record_consent(db, store, record.profile, mine, user)


# -- log the call ---------------------------------------------------------------------------

def _log_call(db: Database, store: desk.DeskStore, customer_id: int, user: User) -> None:
    form = _Form("call", customer_id)
    owners = agent_names(user)
    tomorrow = clock.wall().date() + timedelta(days=1)
    with st.form(form.key("form"), border=False):
        left, right = st.columns(2)
        reason = left.selectbox(TEXT["reason"], desk.CALL_REASONS, index=None, format_func=REASON_LABELS.get,
                                placeholder=TEXT["reason_placeholder"], key=form.key("reason"))
        outcome = right.radio(TEXT["outcome"], desk.CALL_OUTCOMES, index=None, format_func=OUTCOME_LABELS.get,
                              horizontal=True, key=form.key("outcome"))
        note = st.text_area(TEXT["note"], help=TEXT["note_help"], height=90, key=form.key("note"))
        with_task = st.checkbox(TEXT["add_follow_up"], key=form.key("with-task"))
        cols = st.columns([1, 1, 1, 2])
        due_date = cols[0].date_input(TEXT["due_date"], value=tomorrow, format="DD.MM.YYYY", key=form.key("due-date"))
        due_time = cols[1].time_input(TEXT["due_time"], value=DEFAULT_DUE, step=timedelta(minutes=15),
                                      key=form.key("due-time"))
        owner = cols[2].selectbox(TEXT["owner"], owners, index=0, key=form.key("owner"))
        task_note = cols[3].text_input(TEXT["task_note"], key=form.key("task-note"))
        if not st.form_submit_button(TEXT["save_call"], type="primary"):
            return
    problem = (TEXT["need_reason"] if reason is None else TEXT["need_outcome"] if outcome is None else
               TEXT["need_task"] if outcome == "follow_up_needed" and not with_task else
               TEXT["task_unticked"] if task_note.strip() and not with_task else None)
    if problem:
        _refused(problem)
        return
    due = datetime.combine(due_date, due_time) if with_task else None
    now = clock.wall()  # a follow-up is a real appointment: due after the real now
    if due is not None and due <= now:  # said here in the agent's time; the desk checks it again
        _refused(TEXT["due_passed"].format(due=due, now=now))
        return
    follow_up = desk.FollowUp(due, owner, task_note) if due is not None else None
    try:
        desk.check_against_database(db, customer_id)
        call_id = store.log_call(customer_id, user.user_name, reason, outcome, note, channel=CALL_CHANNEL,
                                 follow_up=follow_up, now=now)
    except desk.DeskError as error:
        _refused(str(error))
        return
    message = TEXT["call_saved"].format(call_id=call_id, outcome=OUTCOME_LABELS[outcome])
    if due is not None:
        message += TEXT["task_saved"].format(owner=owner, due=due)
    _saved(form, message, "call_logged", call_id=call_id, reason=reason, outcome=outcome,
           follow_up_owner=owner if due is not None else None,
           follow_up_due=due.isoformat(sep=" ") if due is not None else None)


# -- open a complaint -------------------------------------------------------------------------

def _product_choices(db: Database, record: CustomerRecord) -> tuple[list[int], dict[int, str]]:
    """Product ids with the customer's own purchases first, and each one's label."""
    products = desk_queries.products(db)
    bought = set(record.purchases["product_id"].drop_nulls().to_list())
    labels = {pid: f"{name} ({category}) #{pid}" for pid, name, category in products.iter_rows()}
    return [pid for pid in labels if pid in bought] + [pid for pid in labels if pid not in bought], labels


def _open_complaint(db: Database, store: desk.DeskStore, record: CustomerRecord, user: User) -> None:
    form = _Form("complaint", record.customer_id)
    product_ids, labels = _product_choices(db, record)
    with st.form(form.key("form"), border=False):
        cols = st.columns([1, 1, 2])
        category = cols[0].selectbox(TEXT["category"], config.COMPLAINT_CATEGORIES, index=None, format_func=_label,
                                     key=form.key("category"))
        severity = cols[1].selectbox(TEXT["severity"], config.COMPLAINT_SEVERITIES, index=None, format_func=_label,
                                     key=form.key("severity"))
        product_id = cols[2].selectbox(TEXT["product"], product_ids, index=None,
                                       format_func=lambda pid: labels.get(pid, f"#{pid}"),
                                       placeholder=TEXT["product_placeholder"], help=TEXT["bought_first"],
                                       key=form.key("product"))
        description = st.text_area(TEXT["description"], help=TEXT["note_help"], height=90,
                                   key=form.key("description"))
        if not st.form_submit_button(TEXT["save_complaint"], type="primary"):
            return
    problem = TEXT["need_category"] if category is None else TEXT["need_severity"] if severity is None else None
    if problem:
        _refused(problem)
        return
    opened = clock.wall()
    try:
        desk.check_against_database(db, record.customer_id, product_id=product_id)
        complaint_id = store.open_complaint(record.customer_id, user.user_name, category, severity, product_id,
                                            description, channel=CALL_CHANNEL, now=opened)
    except desk.DeskError as error:
        _refused(str(error))
        return
    promise = config.RESPONSE_PROMISE_HOURS
    _saved(form, TEXT["complaint_saved"].format(complaint_id=complaint_id, opened=opened, hours=promise,
                                                due=opened + timedelta(hours=promise)),
           "complaint_opened", complaint_id=complaint_id, category=category, severity=severity, product_id=product_id)


# -- update a complaint -----------------------------------------------------------------------

_OPEN_COLUMNS = {"complaint_id": pl.Int64, "opened_at": pl.Datetime("us"), "category": pl.String,
                 "severity": pl.String, "product_id": pl.Int64, "answered": pl.Boolean, "refund_try": pl.Float64,
                 "resolved": pl.Boolean}


def open_complaints(record: CustomerRecord, mine: desk.DeskRecord, keep: int | None = None) -> pl.DataFrame:
    """The customer's complaints still open, loaded and opened on calls, with what calls changed
    applied (answered, resolved, refunded); oldest first. A record the page already overlaid
    with the desk's complaints gives the same list (a complaint is listed once). `keep`: a
    complaint listed even if resolved (`resolved` true), the one an agent has in the form while
    a colleague resolves it, so the save is answered rather than the form vanishing."""
    changed = mine.complaints
    kept = pl.col("complaint_id") == (keep if isinstance(keep, int) else -1)
    loaded = record.complaints.filter((pl.col("status") != "resolved") | kept).select(
        "complaint_id", "opened_at", "category", "severity", "product_id",
        pl.col("first_response_at").is_not_null().alias("answered"),
        pl.col("refund_amount_try").cast(pl.Float64).alias("refund_try"),
        (pl.col("status") == "resolved").alias("resolved"))
    own = changed.filter(pl.col("origin") == "desk").select(
        "complaint_id", "opened_at", "category", "severity", "product_id",
        pl.col("first_response_at").is_not_null().alias("answered"), "refund_try",
        pl.col("resolved_at").is_not_null().alias("resolved"))
    listed = pl.concat([loaded.filter(~pl.col("complaint_id").is_in(own["complaint_id"].implode())), own],
                       how="vertical_relaxed")
    if changed.height:
        updates = changed.select("complaint_id", pl.col("first_response_at").alias("desk_answer"),
                                 pl.col("resolved_at").alias("desk_resolved"),
                                 pl.col("refund_try").alias("desk_refund"))
        listed = (listed.join(updates, on="complaint_id", how="left")
                  .filter(pl.col("desk_resolved").is_null() | kept)
                  .with_columns(pl.col("answered") | pl.col("desk_answer").is_not_null(),
                                pl.col("resolved") | pl.col("desk_resolved").is_not_null(),
                                pl.coalesce("desk_refund", "refund_try").alias("refund_try"))
                  .drop("desk_answer", "desk_resolved", "desk_refund"))
    return listed.select(list(_OPEN_COLUMNS)).cast(_OPEN_COLUMNS).sort("opened_at", "complaint_id")


def _seen_version(store: desk.DeskStore, complaint_id: int) -> int:
    """The version of the complaint the agent's form was drawn from (the previous run's), and
    remember the current one for the next save: a colleague's save in between makes the desk
    refuse this one instead of overwriting it."""
    seen = st.session_state.setdefault(_SEEN_VERSIONS, {})
    current = store.complaint_version(complaint_id)
    drawn_from = seen.get(complaint_id, current)
    seen[complaint_id] = current
    return drawn_from


def _update_complaint(db: Database, store: desk.DeskStore, record: CustomerRecord, mine: desk.DeskRecord,
                      user: User) -> None:
    customer_id = record.customer_id
    form = _Form("update", customer_id)
    # The number kept apart from the select box's own state, which the browser may hand back as the
    # option's label once the options change (a colleague's save): the list must not crash on it.
    complaints = open_complaints(record, mine, keep=st.session_state.get(form.key("chosen")))
    if complaints.is_empty():
        st.info(TEXT["no_open_complaint"])
        return
    rows = {row["complaint_id"]: row for row in complaints.iter_rows(named=True)}
    chosen = st.selectbox(TEXT["which_complaint"], list(rows), key=form.key("which"),
                          format_func=lambda cid: _complaint_label(rows[cid]))
    row = rows[chosen]
    st.session_state[form.key("chosen")] = chosen
    drawn_from = _seen_version(store, chosen)
    if row["resolved"]:
        st.warning(TEXT["resolved_meanwhile"].format(complaint_id=chosen), icon=":material/sync_problem:")
    with st.form(form.key(f"form-{chosen}"), border=False):
        answered = st.checkbox(TEXT["already_answered"] if row["answered"] else TEXT["answered"],
                               value=bool(row["answered"]), disabled=bool(row["answered"]),
                               key=form.key(f"answered-{chosen}"))
        resolved = st.checkbox(TEXT["resolved"], key=form.key(f"resolved-{chosen}"))
        resolution = st.text_area(TEXT["resolution"], help=TEXT["note_help"], height=70,
                                  key=form.key(f"resolution-{chosen}"))
        # Text, not a number box: the browser's number box drops a Turkish decimal comma (49,90 became 4990).
        typed_refund = st.text_input(TEXT["refund"], help=TEXT["refund_help"], placeholder="49,90",
                                     key=form.key(f"refund-{chosen}"))
        if not st.form_submit_button(TEXT["save_update"], type="primary"):
            return
    text = resolution.strip()
    try:
        refund = parse_amount(typed_refund)
    except ValueError as error:
        _refused(str(error))
        return
    problem = (TEXT["need_resolution"] if resolved and not text else
               TEXT["resolution_unticked"] if text and not resolved else None)
    if problem:
        _refused(problem)
        return
    newly_answered = answered and not row["answered"]
    try:
        desk.check_against_database(db, customer_id, complaint_id=chosen, product_id=row["product_id"],
                                    refund_try=refund)
        version = store.update_complaint(chosen, user.user_name, answered=newly_answered,
                                         resolution=text if resolved else None, refund_try=refund,
                                         expected_version=drawn_from, customer_id=customer_id,
                                         now=clock.wall())
    except desk.DeskError as error:
        _refused(str(error))
        return
    st.session_state[_SEEN_VERSIONS][chosen] = version
    done = [TEXT["answered_word"]] if newly_answered else []
    done += [TEXT["resolved_word"]] if resolved else []
    done += [TEXT["refund_word"].format(amount=f"₺{refund:,.2f}")] if refund is not None else []
    what = ", ".join(done)
    _saved(form, TEXT["complaint_updated"].format(complaint_id=chosen, what=what), "complaint_updated",
           complaint_id=chosen, answered=newly_answered, resolved=resolved, refund_try=refund, version=version)


def _complaint_label(row: dict) -> str:
    opened = row["opened_at"]
    state = "resolved" if row["resolved"] else "answered" if row["answered"] else "not answered yet"
    return f"#{row['complaint_id']} · {_label(row['category'] or '')} · opened {opened:%d.%m.%Y %H:%M} · {state}"


# -- consent ----------------------------------------------------------------------------------

def _record_consent(db: Database, store: desk.DeskStore, profile: dict, mine: desk.DeskRecord,
                    user: User) -> None:
    customer_id = profile["customer_id"]
    form = _Form("consent", customer_id)
    if mine.consent.height:
        st.caption(TEXT["consent_recent"] + "; ".join(
            f"{r['recorded_at']:%d.%m.%Y %H:%M} {_consent_words(r)}"
            for r in mine.consent.tail(3).iter_rows(named=True)))
    with st.form(form.key("form"), border=False):
        left, right = st.columns(2)
        action = left.radio(TEXT["consent_action"], list(CONSENT_ACTIONS), index=None, format_func=CONSENT_ACTIONS.get,
                            key=form.key("action"))
        channel = right.radio(TEXT["consent_channel"], desk.CONSENT_CHANNELS, index=None,
                              format_func=CHANNEL_LABELS.get, horizontal=True, key=form.key("channel"))
        if not st.form_submit_button(TEXT["save_consent"], type="primary"):
            return
    do_not_contact = action == "do_not_contact"
    problem = (TEXT["need_action"] if action is None else
               TEXT["need_channel"] if channel is None and not do_not_contact else None)
    if problem:
        _refused(problem)
        return
    channel = None if do_not_contact else channel
    given = action == "give"
    if unchanged := _already_so(profile, channel, given, do_not_contact):
        _refused(unchanged)
        return
    try:
        desk.check_against_database(db, customer_id)
        change_id = store.record_consent(customer_id, user.user_name, channel, given, do_not_contact=do_not_contact,
                                         now=clock.wall())
    except desk.DeskError as error:
        _refused(str(error))
        return
    what = _consent_words({"channel": channel, "given": given, "do_not_contact": do_not_contact})
    _saved(form, TEXT["consent_saved"].format(what=what), "consent_changed", change_id=change_id, channel=channel,
           given=given if channel else None, do_not_contact=do_not_contact, source=desk.SOURCE)


def _already_so(profile: dict, channel: str | None, given: bool, do_not_contact: bool) -> str | None:
    """Why the request changes nothing (the consent is already so), or None: a second identical
    change would only tell the systems of record the same thing twice."""
    if do_not_contact:
        return TEXT["already_dnc"] if profile["do_not_contact"] else None
    if bool(profile[f"consent_{channel}"]) == given:
        return TEXT["already_given" if given else "already_withdrawn"].format(channel=CHANNEL_LABELS[channel])
    return None


def _consent_words(row: dict) -> str:
    if row["do_not_contact"]:
        return "do not contact"
    return f"{CHANNEL_LABELS.get(row['channel'], row['channel'])} consent {'given' if row['given'] else 'withdrawn'}"
