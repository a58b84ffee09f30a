"""Streamlit glue shared by the pages: the process-wide database, the missing-database notice,
the clock caption, and number formats. Pages stay layout only."""
from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime
from pathlib import Path

import polars as pl
import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from crm360 import clock, config, session
from crm360.access import User
from crm360.campaigns import CampaignStore, store_path
from crm360.numbers import money  # noqa: F401  (pages call ui.money)
from crm360.queries import customer
from crm360.store import Database, NoDatabase


def _leave_pages_directory_mode() -> None:
    """Route a deep link through dashboard.py's `st.navigation` on a freshly started server.

    Streamlit treats an app with a `pages/` folder as a folder-of-pages app until some run
    calls `st.navigation`. If the first visitor after a restart arrives at `/customer` (a
    telephony screen-pop), Streamlit runs pages/customer.py on its own, and keeps doing so for
    every later visitor: wrong sidebar, no page config. Clearing the flag and rerunning sends
    that first run, and all after it, through the entry point.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


_leave_pages_directory_mode()


@st.cache_resource
def _database(path: str) -> Database:
    return Database(path, warm_up=customer.warm_up)


def campaigns() -> CampaignStore:
    """The campaign store beside the published database (created on first use)."""
    return _campaigns(str(store_path()))


@st.cache_resource
def _campaigns(path: str) -> CampaignStore:
    return CampaignStore(Path(path))


def database() -> Database:
    """The process's database handle; stops the page with set-up instructions when there is none."""
    db = _database(str(config.db_path()))
    try:
        db.row("SELECT 1 FROM dataset_info")
        missing = db.memo("missing_tables", _missing_tables)
    except NoDatabase:
        _no_database(f"No database at `{config.db_path()}` yet.")
    except Exception as error:  # an empty or foreign DuckDB file
        _no_database(f"`{config.db_path()}` is not a loaded CRM database ({type(error).__name__}).")
    if missing:
        needs_newer_load("missing: " + ", ".join(missing))
        st.stop()
    return db


def _missing_tables(snap) -> list[str]:
    present = {row[0] for row in snap.cursor.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    return sorted(set(config.SERVED_TABLES) - present)


def _no_database(reason: str) -> None:
    st.warning(reason)
    st.markdown(
        "Create the demo data and load it:\n\n"
        "```bash\nmake demo          # seed 20,000 customers, load them, start the app\n```\n"
        "or step by step:\n\n"
        "```bash\npython -m seed --customers 20000 --out data/raw\n"
        "python -m etl --raw data/raw --db data/crm.duckdb\n```\n"
        "Set `CRM_DB` to read a database elsewhere."
    )
    st.stop()


def needs_newer_load(detail: str) -> None:
    st.warning("This page needs tables the served database does not have yet: it was loaded by an earlier "
               "release. Run the load again to build them (`make data`, or `python -m etl --raw DIR`); the "
               f"other pages keep working meanwhile. ({detail})", icon=":material/update:")


def now_caption(db: Database) -> datetime:
    """Print which 'now' this page uses and return it."""
    moment = clock.now(db)
    mode = "newest event in the data" if config.CLOCK_MODE != "wall" else "real clock"
    st.caption(f"Now = {moment:%d %b %Y %H:%M} ({mode}). Ages and 24-hour clocks count from here.")
    return moment


def show_incident(error: Exception, page: str) -> str:
    """Tell the user the page failed, with an incident id to quote, and never the traceback: that
    goes to the server log under the same id. Returns the id."""
    incident = secrets.token_hex(4)
    _incident_log().error("incident %s on page %s", incident, page, exc_info=error)
    st.error(f"This page ran into an error and stopped. Incident {incident}: give this id to an admin, who "
             "finds the details in the server log.", icon=":material/error:")
    return incident


def _incident_log() -> logging.Logger:
    log = logging.getLogger("crm360.incidents")
    if not log.handlers:  # Streamlit's log setup leaves other loggers without a handler
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
    return log


def hours(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f} h" if value < 48 else f"{value / 24:.1f} days"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


_MARKDOWN_SPECIAL = set("\\`*_{}[]()#+-.!|<>~$:&")
# Escapes are not enough: markdown resolves them first, then turns bare web and e-mail addresses
# in the text into links (`www.`, `https://`, `name@host`) and `:material/x:` or `:smile:` into
# icons and emoji. An invisible word joiner after every colon, before every @ and inside `www.`
# breaks each of those patterns while the text reads the same.
_WORD_JOINER = "\u2060"
_WWW = re.compile(r"(www)(?=\.)", re.IGNORECASE)


def plain(text: object) -> str:
    """Text from the data made safe for Streamlit's markdown: shown as typed, never as markup,
    a link, an icon or an emoji."""
    value = _WWW.sub(r"\1" + _WORD_JOINER, "" if text is None else str(text))
    escaped = "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in value)
    return escaped.replace(":", ":" + _WORD_JOINER).replace("@", _WORD_JOINER + "@")


def profile_link(user: User, column: str = "customer_id") -> pl.Expr:
    """The customer page's link for each row, for users who may open it (agents); empty otherwise."""
    if session.may_open(user, "customer"):
        return pl.format("/customer?customer={}", column).alias("profile")
    return pl.lit(None, dtype=pl.String).alias("profile")


def profile_column(user: User, label: str = "Open"):
    """The link column's settings, or None (which hides it) for users who may not open profiles."""
    return st.column_config.LinkColumn(label, display_text="open") if session.may_open(user, "customer") else None
