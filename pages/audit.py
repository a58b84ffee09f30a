"""The audit log (admins only): who looked at which customer, searched, exported or changed what,
and whether the log's hash chain is intact."""
import json
import re
from datetime import date, datetime, time, timedelta

import polars as pl
import streamlit as st

from crm360 import audit, session, ui
from crm360.glossary import GLOSSARY

CUSTOMER_NUMBERS_SHOWN = 5
TEXT = {
    "numbers_help": f"The first {CUSTOMER_NUMBERS_SHOWN} customers the entry concerns, in the order recorded; filter "
                    "by a customer number to see every entry about that customer.",
    "intro": "Every profile view, search, list view, export, campaign change, duplicate decision, user change and "
             "sign-in, append-only (the ETL never touches it; entries cannot be changed or deleted).",
    "intact": "Hash chain intact: all {entries:,} entries check out (last checked {checked}). Each entry's hash "
              "covers the one before it, so an entry changed or removed outside the app shows here, on every "
              "page with customer data (closed until it is resolved) and in `python -m crm360 audit verify`.",
    "walking": "The hash chain is being checked since the app started; the result shows here when done.",
    "broken": "The audit log cannot be trusted: {problem}. Pages with customer data are closed until the store is "
              "restored from a backup.",
    "check": "Check the whole chain now",
    "customer_help": "Entries that concern this customer: views, searches that listed them, lists and exports that "
                     "held them.",
    "digits_only": "A customer number is digits only (up to 12).",
    "dates": "Pick a start and an end date; showing the last 30 days meanwhile.",
    "unreadable": "The audit log could not be read: {error}",
    "none": "No entry matches.",
}

user = session.require("audit")  # closed, with the reason, while the log is missing, unwritable or broken
st.title("Audit log")
st.caption(TEXT["intro"])
log = session.audit_log()
if st.button(TEXT["check"], icon=":material/verified:"):
    session.flush_audit()
    log.check_chain()
chain = log.chain
if chain is None:
    st.info(TEXT["walking"], icon=":material/hourglass_top:")
elif not chain.intact:  # found by the check just asked for
    st.error(TEXT["broken"].format(problem=ui.plain(chain.summary)), icon=":material/gpp_bad:")
    st.stop()
else:
    st.success(TEXT["intact"].format(entries=chain.entries, checked=f"{log.checked_at:%d.%m.%Y %H:%M:%S}"),
               icon=":material/verified:")
try:
    for note in log.notes():
        st.caption(ui.plain(note))
except audit.AuditUnavailable as error:  # the store broke since the page was let open
    st.error(TEXT["unreadable"].format(error=ui.plain(error)))
    st.stop()

today = date.today()
left, middle, right = st.columns(3)
customer = left.text_input("Customer number", max_chars=12, placeholder="e.g. 1000042", help=TEXT["customer_help"])
person = middle.text_input("User", max_chars=40)
action = right.selectbox("Action", ["any", *audit.ACTIONS])
period = st.date_input("Between", (today.replace(day=1), today), format="DD.MM.YYYY", help="Defaults to this month.")
customer_id = None
if customer.strip():
    if not re.fullmatch(r"[0-9]{1,12}", customer.strip()):
        st.error(TEXT["digits_only"])
        st.stop()
    customer_id = int(customer.strip())
if isinstance(period, tuple) and len(period) == 2:
    start, end = period
else:
    st.info(TEXT["dates"])
    start, end = today - timedelta(days=30), today
session.flush_audit()
try:
    entries = log.search(customer_id=customer_id, user_name=person.strip().lower() or None,
                         action=None if action == "any" else action,
                         since=datetime.combine(start, time.min), until=datetime.combine(end, time.max))
except (audit.AuditUnavailable, ValueError) as error:  # a store that broke since the check, an unreadable entry
    st.error(TEXT["unreadable"].format(error=ui.plain(error)))
    st.stop()
session.record("list_view", page="audit", customer=customer_id, user_searched=person.strip().lower() or None,
               action_searched=action, entries=len(entries))
if not entries:
    st.info(TEXT["none"])
else:
    st.caption(f"{len(entries):,} entries, newest first" + (" (the latest 500)" if len(entries) == 500 else "") + ".")
    numbers = log.first_customers([e.entry_id for e in entries], CUSTOMER_NUMBERS_SHOWN)
    st.dataframe(pl.DataFrame([{"when": e.at, "user": e.user_name, "role": e.role, "action": e.action,
                                "page": e.page, "customers": e.customers,
                                "customer_numbers": ", ".join(map(str, numbers.get(e.entry_id, [])))
                                + (", …" if e.customers > CUSTOMER_NUMBERS_SHOWN else ""),
                                "detail": json.dumps(e.detail, ensure_ascii=False)}
                               for e in entries]),
                 hide_index=True, width="stretch",
                 column_config={"when": st.column_config.DatetimeColumn("When", format="DD.MM.YYYY HH:mm:ss"),
                                "customers": st.column_config.NumberColumn(
                                    "Customers", format="%d", help=GLOSSARY["audit_customers"]),
                                "customer_numbers": st.column_config.TextColumn(
                                    "Customer numbers", help=TEXT["numbers_help"])})
