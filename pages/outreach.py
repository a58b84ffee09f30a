"""Outreach candidates: who should hear from us first, and why."""
import streamlit as st

from crm360 import config, ui
from crm360.glossary import GLOSSARY
from crm360.queries import outreach
from crm360.textnorm import mask_phone

st.title("Outreach")
db = ui.database()
now = ui.now_caption(db)

st.subheader(f"Complaints past the {config.RESPONSE_PROMISE_HOURS}-hour promise", anchor=False)
st.caption("Service contacts: the customer raised the matter, so no marketing consent is "
           "needed; customers who asked not to be contacted are left out.")
counts = outreach.overdue_counts(db, now)
cols = st.columns(3)
cols[0].metric("Overdue, to call", f"{counts['listed']:,}", help=GLOSSARY["promise"])
cols[1].metric("Held back: do not contact", f"{counts['do_not_contact']:,}")
cols[2].metric("All overdue", f"{counts['overdue']:,}")

candidates = outreach.overdue_complaints(db, now)
if candidates.is_empty():
    st.success("Every complaint older than the promise has an answer.")
else:
    shown = candidates.with_columns(
        candidates["phone"].map_elements(mask_phone, return_dtype=str).alias("phone"),
        (candidates["category"].str.replace_all("_", " ")).alias("category"),
        ("customer?customer=" + candidates["customer_id"].cast(str)).alias("profile"),
    ).select("profile", "hours_waiting", "severity", "category", "full_name", "customer_id", "city",
             "channel", "opened_at", "phone", "net_revenue_try", "complaint_id")
    st.dataframe(
        shown, hide_index=True, width="stretch",
        column_config={
            "hours_waiting": st.column_config.NumberColumn("Hours waiting", format="%.0f",
                                                           help=GLOSSARY["hours_waiting"]),
            "net_revenue_try": st.column_config.NumberColumn("Net revenue (TRY)", format="%.0f",
                                                             help=GLOSSARY["net_revenue"]),
            "opened_at": st.column_config.DatetimeColumn("Opened", format="DD.MM.YYYY HH:mm"),
            "profile": st.column_config.LinkColumn("Profile", display_text="Open"),
            "customer_id": st.column_config.NumberColumn("Customer #", format="%d"),
            "full_name": "Customer", "city": "City", "severity": "Severity", "category": "Cause",
            "channel": "Came in by", "phone": "Phone", "complaint_id": "Complaint #",
        })
    st.caption(f"Showing the first {candidates.height:,}, most severe and longest waiting first.")

st.subheader("Tell them it is fixed", anchor=False)
st.caption("Customers who complained about a product defect before its fix shipped. Service "
           "contacts about the matter they raised; do-not-contact customers are left out.")
fixed = outreach.fixed_issue_candidates(db)
if fixed.is_empty():
    st.info("No customer is waiting to hear about a fixed defect.")
else:
    st.metric("Customers to tell", f"{fixed['customer_id'].n_unique():,}")
    st.dataframe(
        fixed.with_columns(("customer?customer=" + fixed["customer_id"].cast(str)).alias("profile"))
        .select("profile", "defect", "fix_shipped_at", "full_name", "customer_id", "city",
                "preferred_channel", "complained_at", "fix_description"),
        hide_index=True, width="stretch",
        column_config={
            "profile": st.column_config.LinkColumn("Profile", display_text="Open"),
            "defect": "Defect", "fix_shipped_at": st.column_config.DateColumn("Fixed on", format="DD.MM.YYYY"),
            "full_name": "Customer", "customer_id": st.column_config.NumberColumn("Customer #", format="%d"),
            "city": "City", "preferred_channel": "Prefers",
            "complained_at": st.column_config.DatetimeColumn("Complained", format="DD.MM.YYYY"),
            "fix_description": "What was fixed",
        })
