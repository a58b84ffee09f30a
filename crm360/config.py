"""Every constant a business would tune, in one place, each with the reason for its default.

Values can be overridden by environment variables where an operator needs to (paths, clock).
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Where the app reads and the ETL publishes. The path is a symbolic link to the current
# versioned database file, so `duckdb.connect(DB_PATH, read_only=True)` opens the live data.
DEFAULT_DB_PATH = PROJECT_ROOT / "data" / "crm.duckdb"
DEFAULT_RAW_DIR = PROJECT_ROOT / "data" / "raw"


def db_path() -> Path:
    """The database the app reads: `CRM_DB`, else data/crm.duckdb."""
    return Path(os.environ.get("CRM_DB", str(DEFAULT_DB_PATH)))


# Environment the app process runs with. Polars on one thread: the app's polars work is one
# customer's rows or one page of results, and handing a few dozen rows to a thread pool costs more
# than the work (the customer page's views measured 30% faster). The seed and the ETL keep every
# core. Applied by dashboard.py before polars is imported, and by the bench's lookups.
APP_ENVIRONMENT = {"POLARS_MAX_THREADS": "1"}

# The source documents promise an answer to calls and e-mails within one day.
RESPONSE_PROMISE_HOURS = 24

# "Now" for ages and clocks. "data": the newest event time in the loaded data, so a demo
# seeded last week still shows complaints hours old, not days. "wall": the real clock,
# right for a production feed loaded several times a day.
CLOCK_MODE = os.environ.get("CRM_CLOCK", "data")

# A file whose rejected share exceeds this fails the run: more than 5% bad rows usually
# means a changed export format, not dirty data, and loading the rest would mislead.
MAX_REJECTED_SHARE = 0.05

# Free text is kept whole up to this length; a longer value is rejected with its row,
# because a 10 MB "note" is a broken export, not a note.
MAX_TEXT_LENGTH = 20_000

# How much of a rejected row the quarantine keeps for a person to read.
QUARANTINE_RAW_CHARS = 2_000

# Earliest plausible event date: anything before is a typing or export error.
EARLIEST_EVENT_DATE = "2000-01-01"

# A customer counts as active when they bought in the trailing window; 365 days matches the
# yearly seasonality of retail (a once-a-year buyer is still a customer).
ACTIVE_WINDOW_DAYS = 365

# Lifetime value. The 12-month forecast discounts each month's expected spend at this monthly
# rate: Turkish lira deposit and policy rates have run at 35-50% a year, about 3% a month, so
# a lira next December is worth noticeably less than one today.
CLV_MONTHLY_DISCOUNT_RATE = 0.03
CLV_HORIZON_MONTHS = 12
WEEKS_PER_MONTH = 52 / 12  # the models count time in weeks, as the literature does

# The model page's calibration/holdout check, computed by each ETL run: fit on everything but
# the last 26 weeks, forecast those weeks, compare. Half a year covers a season and Efsane Cuma
# for most cut-offs, and leaves the calibration period long enough to fit.
BACKTEST_HOLDOUT_WEEKS = 26

# Loyalty tiers by net spend in the trailing 12 months (TRY), highest first; spending nothing
# in the window means no tier. On the demo data about 5% reach Platinum, 12% Gold, 35% Silver.
LOYALTY_TIERS = (("Platinum", 50_000), ("Gold", 20_000), ("Silver", 5_000), ("Bronze", 0.01))
NO_TIER = "No tier"  # no completed order in the trailing 12 months (the trends page's filter value)

# Churn risk = 1 - P(alive) from the BG/NBD model, banded at these lower bounds, highest first.
# An open complaint past the promise or a detractor NPS answer raises the band by one.
CHURN_RISK_BANDS = (("high", 0.6), ("medium", 0.3), ("low", 0.0))

# Proactive outreach (crm360/outreach_rules.py). The outreach page shows the values in force.
STALLED_COMPLAINT_DAYS = 5          # answered but not resolved for longer than this
FOLLOW_UP_WINDOW_DAYS = 7           # resolved this recently: check the solution held
DETRACTOR_WINDOW_DAYS = 30          # NPS 0-6 or CSAT 1-2 this recently: recover
HIGH_VALUE_TOP_SHARE = 0.2          # "high value": the top 20% of buyers by value so far
AT_RISK_P_ALIVE = 0.5               # ... whose chance of still buying fell below this
QUIET_GAP_FACTOR = 2.0              # ... or who have not bought for twice their usual gap
CELEBRATION_WINDOW_DAYS = 7         # birthdays and customer anniversaries within this many days
TIER_UPGRADE_REACH = 0.9            # trailing spend at 90% of the next tier's threshold or more
CONTACT_PRESSURE_DAYS = 14          # a customer contacted in a campaign this recently is held back
# Review decisions on possible duplicate customers, written by the data-health page and read by
# every ETL run; a file of its own beside the database (like campaigns), so loads never lose them.
IDENTITY_DECISIONS_FILE = "identity_decisions.sqlite"


def identity_decisions_path() -> Path:
    """`CRM_IDENTITY_DECISIONS`, else identity_decisions.sqlite beside the published database."""
    return Path(os.environ.get("CRM_IDENTITY_DECISIONS", str(db_path().with_name(IDENTITY_DECISIONS_FILE))))


# A signed-in session ends after this long without activity: long enough for a call and its
# notes, short enough that an unattended screen locks itself. `CRM_SESSION_IDLE_MINUTES` overrides.
SESSION_IDLE_MINUTES = 30


def session_idle_minutes() -> float:
    try:
        return float(os.environ.get("CRM_SESSION_IDLE_MINUTES", SESSION_IDLE_MINUTES))
    except ValueError:
        return SESSION_IDLE_MINUTES


CAMPAIGN_CONTROL_SHARE = 0.10       # drawn at creation and not contacted, to measure what contact changed
CAMPAIGN_RESULT_WINDOW_DAYS = 30    # a campaign's effect: purchases and complaints this long after contact
# Value at stake of an open complaint, by severity (TRY): what a lost complaint costs beyond the
# customer's predicted value (refunds, the next purchase, word of mouth), conservatively.
COMPLAINT_STAKE_TRY = {"critical": 2_000, "high": 1_000, "medium": 500, "low": 200}

# DuckDB memory cap for the ETL. The target is 8 GB peak for the process; DuckDB stays under
# its cap (spilling to disk beyond it). At 1 M customers 7 GB keeps the staged contacts in
# memory (6 GB made them spill, costing ~4 s) and the process peaked at 6.4 GB.
ETL_MEMORY_LIMIT = os.environ.get("CRM_ETL_MEMORY", "7GB")

# Versions of the database kept on disk after a publish: the current one and the one before,
# which readers that have not yet switched may still have open.
DB_VERSIONS_KEPT = 2

CHANNELS = ("phone", "email", "social", "web_chat", "sms", "in_person", "post")
SALES_CHANNELS = ("online", "store", "call_centre")
PURCHASE_STATUSES = ("completed", "returned", "cancelled")
COMPLAINT_CATEGORIES = (
    "late_delivery",
    "defective_product",
    "out_of_stock",
    "billing_error",
    "rude_staff",
    "wrong_item",
    "refund_delay",
    "technical_issue",
)
COMPLAINT_SEVERITIES = ("low", "medium", "high", "critical")
COMPLAINT_STATUSES = ("open", "in_progress", "resolved")
LANGUAGES = ("tr", "en", "de", "ar", "ru")
SURVEY_TOUCHPOINTS = ("purchase", "delivery", "support_call", "complaint_resolution", "store_visit")

# Every table the pages read. A database published by an earlier release may lack the newest
# ones until the next load; the app then says so instead of failing on a page.
SERVED_TABLES = (
    "dataset_info", "customers", "interactions", "purchases", "complaints", "survey_responses", "products",
    "product_issues", "agents", "customer_summary", "customer_segments", "customer_value", "model_fits",
    "model_backtest_weekly", "model_backtest_by_frequency", "segment_history", "outreach_candidates",
    "outreach_rules", "outreach_reach", "outreach_service_contacts", "marketing_consent", "kpi_daily",
    "trend_orders", "trend_contacts", "trend_agents", "trend_complaints",
    "trend_surveys", "provinces", "customer_name_tokens", "customer_name_words", "etl_runs", "etl_run_stages",
    "quarantine", "rfm_segment_map", "customer_merges", "identity_links", "identity_decisions", "identity_review")
