"""Entry point: `streamlit run dashboard.py`. Declares the pages and their URL paths.

The overview is the default page at `/`; the customer page lives at `/customer` so the
telephony system can open `/customer?phone=...` (a default page answers only at `/`).
"""
import os

from crm360 import config

for _name, _value in config.APP_ENVIRONMENT.items():  # before anything imports polars
    os.environ.setdefault(_name, _value)

import streamlit as st  # noqa: E402

st.set_page_config(page_title="Customer 360", page_icon=":material/hub:", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Overview", icon=":material/home:", default=True),
    st.Page("pages/customer.py", title="Customer lookup", icon=":material/person_search:", url_path="customer"),
    st.Page("pages/segments.py", title="Segments", icon=":material/donut_small:", url_path="segments"),
    st.Page("pages/model.py", title="Value model", icon=":material/query_stats:", url_path="model"),
    st.Page("pages/outreach.py", title="Outreach", icon=":material/campaign:", url_path="outreach"),
    st.Page("pages/campaigns.py", title="Campaigns", icon=":material/checklist:", url_path="campaigns"),
    st.Page("pages/trends.py", title="Trends", icon=":material/monitoring:", url_path="trends"),
    st.Page("pages/data_health.py", title="Data health", icon=":material/health_and_safety:", url_path="data-health"),
]

st.navigation(PAGES).run()
