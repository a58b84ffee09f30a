"""Entry point: `streamlit run server.py` (make app). Serves dashboard.py, the app script with its
pages, through Streamlit's own web server (Starlette), plus what a script cannot do by itself:

- `/auth/session` and `/auth/sign-out` set and clear the sign-in cookie from an HTTP response, so
  it can be HttpOnly (crm360/session_token.py);
- security headers on every response: no framing by other sites, no addresses in the Referer to
  other sites (crm360/security_headers.py).

Streamlit finds `app` here by itself (a module-level `st.App(...)`); `streamlit run dashboard.py`
still serves the pages, without the cookie: every refresh then asks for the password.
"""
import os

from crm360 import config

for _name, _value in config.APP_ENVIRONMENT.items():  # before anything imports polars
    os.environ.setdefault(_name, _value)

import streamlit as st  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from crm360 import session_token  # noqa: E402
from crm360.security_headers import SecurityHeaders  # noqa: E402

app = st.App("dashboard.py", routes=session_token.routes(), middleware=[Middleware(SecurityHeaders)])
