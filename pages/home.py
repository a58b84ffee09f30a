"""Overview: what is loaded, where each team starts, and the glossary of every number."""
import streamlit as st

from crm360 import ui
from crm360.glossary import GLOSSARY
from crm360.queries import health

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
left, middle, right = st.columns(3)
with left:
    st.page_link("pages/customer.py", label="Customer lookup", icon=":material/person_search:")
    st.caption("Agents on a call: find the customer by name, phone, e-mail or number.")
with middle:
    st.page_link("pages/outreach.py", label="Outreach", icon=":material/campaign:")
    st.caption("Service and marketing: who to contact first, and why.")
with right:
    st.page_link("pages/trends.py", label="Trends", icon=":material/monitoring:")
    st.caption("Executives: revenue, complaints, the 24-hour promise, satisfaction.")
st.page_link("pages/data_health.py", label="Data health: loads and quarantined rows",
             icon=":material/health_and_safety:")

with st.expander("Glossary: how every number is defined"):
    for term, definition in GLOSSARY.items():
        st.markdown(f"**{term.replace('_', ' ')}**: {definition}")
st.caption(f"Data loaded {info['loaded_at']:%d %b %Y %H:%M} (run {info['run_id']}).")
