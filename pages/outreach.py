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
        shown, hide_index=True, use_container_width=True,
        column_config={
            "hours_waiting": st.column_config.NumberColumn("Hours waiting", format="%.0f",
                                                           help=GLOSSARY["hours_waiting"]),
            "net_revenue_try": st.column_config.NumberColumn("Net revenue (TRY)", format="%.0f",
                                                             help=GLOSSARY["net_revenue"]),
            "opened_at": st.column_config.DatetimeColumn("Opened", format="DD.MM.YYYY HH:mm"),
            "profile": st.column_config.LinkColumn("Profile", display_text="Open"),
            "customer_id": st.column_config.NumberColumn("Customer #", format="%d"),
        })
    st.caption(f"Showing the first {candidates.height:,}, most severe and longest waiting first.")
