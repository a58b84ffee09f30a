"""The audit log (admins only): who looked at which customer, searched, exported or changed what."""
import json
from datetime import date, datetime, time, timedelta

import polars as pl
import streamlit as st

from crm360 import audit, session
from crm360.glossary import GLOSSARY

user = session.require("audit")
st.title("Audit log")
st.caption("Every profile view, search, list view, export, campaign change, duplicate decision, user change and "
           "sign-in, append-only (the ETL never touches it; entries cannot be changed or deleted).")
today = date.today()
left, middle, right = st.columns(3)
customer = left.text_input("Customer number", max_chars=12, placeholder="e.g. 1000042",
                           help="Entries that concern this customer: views, searches that listed them, lists and "
                                "exports that held them.")
person = middle.text_input("User", max_chars=40)
action = right.selectbox("Action", ["any", *audit.ACTIONS])
period = st.date_input("Between", (today.replace(day=1), today), format="DD.MM.YYYY",
                       help="Defaults to this month.")
customer_id = None
if customer.strip():
    if customer.strip().isdigit():
        customer_id = int(customer.strip())
    else:
        st.error("A customer number is digits only.")
        st.stop()
start, end = (period if isinstance(period, tuple) and len(period) == 2 else (today - timedelta(days=30), today))
session.flush_audit()
entries = session.audit_log().search(customer_id=customer_id, user_name=person.strip().lower() or None,
                                     action=None if action == "any" else action,
                                     since=datetime.combine(start, time.min), until=datetime.combine(end, time.max))
session.record("list_view", page="audit", customer=customer_id, user_searched=person.strip().lower() or None,
               action_searched=action, entries=len(entries))
if not entries:
    st.info("No entry matches.")
else:
    st.caption(f"{len(entries):,} entries, newest first" + (" (the latest 500)" if len(entries) == 500 else "") + ".")
    st.dataframe(pl.DataFrame([{"when": e.at, "user": e.user_name, "role": e.role, "action": e.action,
                                "page": e.page, "customers": e.customers,
                                "detail": json.dumps(e.detail, ensure_ascii=False)}
                               for e in entries]),
                 hide_index=True, width="stretch",
                 column_config={"when": st.column_config.DatetimeColumn("When", format="DD.MM.YYYY HH:mm:ss"),
                                "customers": st.column_config.NumberColumn(
                                    "Customers", format="%d", help=GLOSSARY["audit_customers"])})
