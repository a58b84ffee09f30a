"""The definition of every number a page shows, in words a user reads in a tooltip or on the
Overview page's glossary. Pages take their `help=` text from here, so the wording is one place."""
from __future__ import annotations

from crm360 import config, record

PROMISE = config.RESPONSE_PROMISE_HOURS
_BANDS = dict(config.CHURN_RISK_BANDS)

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
    "predicted_clv_12m": f"Predicted 12-month value: expected purchases in each of the next "
                         f"{config.CLV_HORIZON_MONTHS} months (BG/NBD) times the expected spend per purchase "
                         f"(Gamma-Gamma), each month discounted at {config.CLV_MONTHLY_DISCOUNT_RATE:.0%}. "
                         "Empty for customers who never bought, or when a model did not converge.",
    "expected_purchases_12m": "Purchase days the BG/NBD model expects from the customer in the next 12 months, "
                              "given how often and how recently they bought.",
    "p_alive": "Probability the customer still buys from us (BG/NBD). The model lets customers drop out only "
               "right after a purchase, so a customer who bought once counts as active.",
    "churn_risk": "1 - probability the customer still buys from us, banded: high from "
                  f"{_BANDS['high']:.0%}, medium from {_BANDS['medium']:.0%}. "
                  f"An open complaint past the {PROMISE}-hour promise or a detractor as the latest NPS answer "
                  "raises the band one step; the reasons are listed.",
    "value_rank": f"Shown for the top {config.HIGH_VALUE_TOP_SHARE:.0%} of buyers: the share of customers with at "
                  "least this customer's value so far, rounded up to a whole percent ('top 6%': 94% of customers "
                  "have spent less).",
    "complaint_urgency": f"An unresolved complaint is red when it has had no answer for {PROMISE} h (the promise), "
                         f"is of {' or '.join(record.URGENT_SEVERITIES)} severity, or has been open more than "
                         f"{record.COMPLAINT_ERROR_DAYS} days; amber while it awaits its first answer within the "
                         f"promise or has been open more than {record.COMPLAINT_WARNING_DAYS} days; blue when "
                         "answered and younger.",
    "rfm_segment": "Recency and frequency scored 1-5 by quintiles among buyers (5 = most recent, most orders), "
                   "mapped to ten segments; the Segments page lists the rule for each. 'Prospects' never "
                   "completed an order.",
    "loyalty_tier": "Tier by net spend in the last 365 days: " + ", ".join(
        f"{name} from ₺{threshold:,.0f}" for name, threshold in config.LOYALTY_TIERS[:-1])
        + "; any spend is Bronze; none, no tier.",
    "model_log_likelihood": "Log-likelihood of the fitted model over all customers: higher is better for the "
                            "same data; it is what the fit maximises.",
    "value_at_stake": "Predicted 12-month value of the customers, plus for each open complaint a stake by "
                      "severity (" + ", ".join(f"{k} ₺{v:,}" for k, v in config.COMPLAINT_STAKE_TRY.items())
                      + ").",
    "outreach_priority": "Value at stake times the chance that contacting the customer helps; with several "
                         "reasons, the chance that at least one helps (each rule's chance is listed with the rules).",
    "consented_contacts": "Shown only where the customer consented to that channel (e-mail consent for the e-mail; "
                          "phone or SMS consent for the phone; a refusal in the İYS register withdraws it), masked "
                          "otherwise; the downloads follow the same rule, with the masked ones in columns of their "
                          "own and phones as digits (905321234567).",
    "service_contacts": "The phone (for a call or an SMS) or e-mail the customer's matter came in on: answering a "
                        "customer about their own complaint needs no marketing consent. Downloads give phones as "
                        "digits (905321234567).",
    "audit_customers": "How many customers the entry concerns: the profile viewed, the customers a search or a "
                       "list showed, the customers in an exported file (its numbers are kept, so a search by "
                       "customer finds the entry).",
    "rows_read": "Data rows in the file (the header excluded), unreadable lines included.",
    "rows_loaded": "Rows that passed every check and are in the tables.",
    "rows_duplicate": "Rows whose natural key (e.g. interaction_id) appeared again later in the "
                      "file; the last one is kept.",
    "rows_rejected": "Rows that failed a required check; each is in the quarantine with its "
                     "line, field and reason.",
    "values_cleared": "Optional values that failed a check (a malformed e-mail, a CSAT of 7): "
                      "the row is loaded without the value, and the original is in the quarantine.",
    "rows_merged": "Records found to be a customer already loaded: a customer record with the same e-mail and "
                   "phone as a lower customer number, or one a person confirmed as the same; in another system's "
                   "export, a customer record linked to a known customer by customer number, e-mail or phone. "
                   "Rows read = loaded + merged + duplicates + rejected.",
    "identity_records": "Distinct (external id, e-mail, phone) in a system's export, each a record of one person; "
                        "rule says how it was linked to a customer (or made one).",
    "possible_duplicates": "Pairs of customers the exact rules keep apart because the evidence could also be two "
                           "people: the same e-mail, the same name and phone, or the same name and city with phones "
                           "one digit apart. Confirmed pairs are merged by the next load; rejected pairs are not "
                           "proposed again.",
    "campaign_groups": "Contacted: customers on the list who were contacted, from the moment of contact. "
                       "The whole list: everyone meant to be contacted, reached or not, from the campaign's "
                       "creation. Control group: drawn at random at creation and never contacted, from the "
                       "creation. Each is observed for "
                       f"{config.CAMPAIGN_RESULT_WINDOW_DAYS} days, or until now if that is sooner.",
    "campaign_effect": "The whole list minus the control group, with a 95% interval (normal approximation, "
                       "unequal variances). The whole list is the honest comparison: the contacted alone are "
                       "those who picked up, who may have bought anyway. An effect is claimed only when the "
                       "interval leaves out zero.",
    "active_customers": "Customers with at least one completed order in the period.",
    "customer_base": f"The customer base on a day: customers with a completed order in the "
                     f"{config.ACTIVE_WINDOW_DAYS} days up to and including it.",
    "lost_customers": f"Customers in the base the day before the period starts (a completed order in the "
                      f"{config.ACTIVE_WINDOW_DAYS} days before) who are not in it on the period's last day: no "
                      f"completed order in the {config.ACTIVE_WINDOW_DAYS} days up to it.",
    "retention_rate": "(Customer base on the period's last day - new customers in the period) / customer base "
                      "the day before the period starts. Customers who come back after a lapse count as "
                      "retained, so with filters on today's segment or tier it can pass 100%.",
    "repeat_purchase_rate": "Share of the period's active customers with two or more completed orders in it.",
    "complaints_opened": "Complaints opened in the period.",
    "complaints_resolved": "Complaints resolved in the period, whenever they were opened.",
    "median_first_response": "Median hours from opening to the first answer, over the period's complaints "
                             "that have been answered.",
    "period_change": "Against the previous period of the same length, ending the day before this one starts: "
                     "counts and money as a percentage change, shares in percentage points, NPS in points.",
    "cohort_retention": "Customers grouped by the month of their first completed order; each cell is the share "
                        "of them with a completed order in that month after their first.",
    "average_handle_time": "Average minutes per contact with a recorded duration.",
    "segment_movement": "Each customer's RFM segment on the last month end before the period and on the last "
                        "month end (or the newest day in the data) by its end, with the rules of today's "
                        "segments. 'Prospects': signed up, no completed order by that day.",
    "read_notes": "What the load detected or converted to read the file: its encoding, delimiter, how it "
                  "writes dates (and whether that was ambiguous) and decimals.",
    "follow_ups_overdue": "Open follow-up tasks whose due time has passed. Due times and 'today' are Europe/Istanbul "
                          "time.",
    "follow_ups_due_today": "Open follow-up tasks due from now until midnight: today is the calendar day in "
                            "Europe/Istanbul.",
    "follow_ups_upcoming": "Open follow-up tasks due after today (Europe/Istanbul).",
    "follow_ups_open": "Open follow-up tasks: made when an agent logs a call with a follow-up, until marked done.",
    "file_failure": "Why the file was not loaded this run. Its table keeps the previous load (or is empty "
                    "on a first load); the other files loaded.",
}


# How the identity step (etl/identity.py) linked a record of another system, or merged a customer
# record: the data-health page shows these beside its counts.
IDENTITY_RULES: dict[str, str] = {
    "same e-mail and phone": "a customer record with the same e-mail and phone as a lower customer number",
    "confirmed the same person": "a pair a person confirmed on this page",
    "external_id": "the other system stores our customer number for them",
    "email": "an e-mail only one customer has",
    "phone": "a phone only one customer has",
    "group": "shares an e-mail or phone with a record linked to the customer",
    "new": "no customer has this e-mail, phone or number: a new customer, without consent",
    "ambiguous": "its e-mail or phone belongs to several customers: its rows are rejected (the other system "
                 "should store the customer number)",
}
