"""Entry point: `streamlit run dashboard.py`. Signs the user in, then declares the pages their
role may open, with their URL paths.

The overview is the default page at `/`; the customer page lives at `/customer` so the
telephony system can open `/customer?phone=...` (a default page answers only at `/`). Signing in
keeps the link: the page opens once the agent has signed in.
"""
import os

from crm360 import config

for _name, _value in config.APP_ENVIRONMENT.items():  # before anything imports polars
    os.environ.setdefault(_name, _value)

import streamlit as st  # noqa: E402

from crm360 import session, ui  # noqa: E402

# An emoji icon is drawn in the browser; a :material/ one would be fetched from Google on every visit.
st.set_page_config(page_title="Customer 360", page_icon="👥", layout="wide")

# (url path, page): the path is the one crm360.access.PAGE_ROLES names.
PAGES = [
    ("", st.Page("pages/home.py", title="Overview", icon=":material/home:", default=True)),
    ("customer", st.Page("pages/customer.py", title="Customer lookup", icon=":material/person_search:",
                         url_path="customer")),
    ("follow-ups", st.Page("pages/follow-ups.py", title="My follow-ups", icon=":material/task_alt:",
                           url_path="follow-ups")),
    ("segments", st.Page("pages/segments.py", title="Segments", icon=":material/donut_small:", url_path="segments")),
    ("model", st.Page("pages/model.py", title="Value model", icon=":material/query_stats:", url_path="model")),
    ("outreach", st.Page("pages/outreach.py", title="Outreach", icon=":material/campaign:", url_path="outreach")),
    ("campaigns", st.Page("pages/campaigns.py", title="Campaigns", icon=":material/checklist:", url_path="campaigns")),
    ("trends", st.Page("pages/trends.py", title="Trends", icon=":material/monitoring:", url_path="trends")),
    ("data-health", st.Page("pages/data-health.py", title="Data health", icon=":material/health_and_safety:",
                            url_path="data-health")),
    ("users", st.Page("pages/users.py", title="Users", icon=":material/group:", url_path="users")),
    ("audit", st.Page("pages/audit.py", title="Audit log", icon=":material/policy:", url_path="audit")),
]

user = session.current_user()
if user is None:
    session.remember_link()  # a screen-pop's link opens once the agent has signed in
    session.sign_in_form()
    st.stop()
allowed = {path: page for path, page in PAGES if session.may_open(user, path)}
# The links are drawn here rather than by Streamlit's sidebar navigation, which
# .streamlit/config.toml switches off so that no list of pages/ files shows before sign-in.
chosen = st.navigation(list(allowed.values()), position="hidden")
with st.sidebar:
    for page in allowed.values():
        st.page_link(page)
session.follow_link(allowed)
try:
    chosen.run()
except Exception as error:  # st.stop, st.rerun and st.switch_page raise BaseExceptions: they pass through
    ui.show_incident(error, chosen.url_path or "/")
