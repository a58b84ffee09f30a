"""Overview: what is loaded, where each team starts, and the glossary of every number."""
import streamlit as st

from crm360 import session, ui
from crm360.glossary import GLOSSARY
from crm360.queries import health

user = session.require("")
st.title("Customer 360")
db = ui.database()
info = health.dataset_info(db)
ui.now_caption(db)

cols = st.columns(5)
cols[0].metric("Customers", f"{info['customers']:,}")
cols[1].metric("Contacts", f"{info['interactions']:,}", help="Interactions on all seven channels.")
cols[2].metric("Orders", f"{info['purchases']:,}", help="Order rows of every status.")
cols[3].metric("Complaints", f"{info['complaints']:,}")
cols[4].metric("Survey answers", f"{info['survey_responses']:,}")

st.subheader("Where to start")
# Only the pages this user's role opens (a link to another page would be refused anyway).
STARTS = [("customer", "pages/customer.py", "Customer lookup", ":material/person_search:",
           "Agents on a call: find the customer by name, phone, e-mail or number."),
          ("outreach", "pages/outreach.py", "Outreach", ":material/campaign:",
           "Marketing and service leads: who to contact first, and why: marketing through a channel they "
           "agreed to, service about their own matter."),
          ("trends", "pages/trends.py", "Trends", ":material/monitoring:",
           "Executives: revenue, complaints, the 24-hour promise, satisfaction."),
          ("data-health", "pages/data-health.py", "Data health", ":material/health_and_safety:",
           "Admins: loads, quarantined rows, possible duplicate customers.")]
starts = [start for start in STARTS if session.may_open(user, start[0])]
for column, (_, page, label, icon, caption) in zip(st.columns(max(1, len(starts))), starts, strict=False):
    with column:
        st.page_link(page, label=label, icon=icon)
        st.caption(caption)

with st.expander("Glossary: how every number is defined"):
    for term, definition in GLOSSARY.items():
        st.markdown(f"**{term.replace('_', ' ')}**: {definition}")
st.caption(f"Data loaded {info['loaded_at']:%d %b %Y %H:%M} (run {info['run_id']}).")
