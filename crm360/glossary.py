"""The definition of every number a page shows, in words a user reads in a tooltip or on the
Overview page's glossary. Pages take their `help=` text from here, so the wording is one place."""
from __future__ import annotations

from crm360 import config

PROMISE = config.RESPONSE_PROMISE_HOURS

GLOSSARY: dict[str, str] = {
    "net_revenue": "Sum of net amounts (after discounts, in TRY) of completed orders. Returned "
                   "and cancelled orders are left out.",
    "orders": "Completed orders; returned and cancelled orders are not counted.",
    "average_order_value": "Net revenue divided by completed orders.",
    "open_complaints": "Complaints whose status is not 'resolved'.",
    "complaint_age": "Hours from the complaint's opening to now (see 'Now' below).",
    "promise": f"The {PROMISE}-hour promise: every complaint gets a first answer within "
               f"{PROMISE} hours of being opened. 'Breached': no answer and older than "
               f"{PROMISE} h. 'Due in N h': no answer yet, N hours left.",
    "within_promise_share": f"Complaints answered within {PROMISE} h, divided by complaints that "
                            f"were answered or have been open longer than {PROMISE} h "
                            "(a complaint opened an hour ago is not yet late).",
    "first_contact_resolution": "Inbound contacts marked resolved at the first contact, divided "
                                "by inbound contacts with a recorded outcome.",
    "csat": "Share of contact satisfaction answers (1-5) that are 4 or 5.",
    "nps": "Net Promoter Score: % of answers 9-10 minus % of answers 0-6, on the 0-10 "
           "'would you recommend us' question. Ranges from -100 to +100.",
    "new_customers": "Customers whose first completed order falls in the period.",
    "last_contact": "The most recent interaction on any channel.",
    "hours_waiting": "Hours since the complaint was opened, with no first answer yet.",
    "now": "Ages and clocks are measured from the newest event in the loaded data (data mode, "
           "the default) or from the real clock when CRM_CLOCK=wall. The caption under each "
           "page title says which.",
    "rows_read": "Data rows in the file (the header excluded), unreadable lines included.",
    "rows_loaded": "Rows that passed every check and are in the tables.",
    "rows_duplicate": "Rows whose natural key (e.g. interaction_id) appeared again later in the "
                      "file; the last one is kept.",
    "rows_rejected": "Rows that failed a required check; each is in the quarantine with its "
                     "line, field and reason.",
    "values_cleared": "Optional values that failed a check (a malformed e-mail, a CSAT of 7): "
                      "the row is loaded without the value, and the original is in the quarantine.",
}
