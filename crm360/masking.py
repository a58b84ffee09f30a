"""Contact details shown only where the customer agreed to be contacted.

A marketing list carries a customer's e-mail only with e-mail consent and their phone only with
phone or SMS consent; otherwise the detail is masked, enough to tell two customers apart but not
to contact them. The rule is applied where the list is made, in the `outreach_candidates` mart
(the `{consented_email}` and `{consented_phone}` placeholders), so the page, its downloads and the
command-line export all read the same masked columns, and the unconsented details are never in
the marketing table at all.
"""
from __future__ import annotations


def masked_email_sql(email: str) -> str:
    """`a***@example.com`: the first letter and the domain."""
    return f"CASE WHEN {email} IS NULL THEN NULL ELSE left({email}, 1) || '***@' || split_part({email}, '@', 2) END"


def masked_phone_sql(phone: str) -> str:
    """`+90 532 *** ** 67`, as the customer page shows a caller's number."""
    return (f"CASE WHEN {phone} IS NULL THEN NULL "
            f"WHEN {phone} LIKE '+90%' AND length({phone}) = 13 "
            f"THEN '+90 ' || substr({phone}, 4, 3) || ' *** ** ' || right({phone}, 2) "
            f"ELSE left({phone}, 4) || '***' || right({phone}, 2) END")


def consented_email_sql(email: str = "email", consent: str = "consent_email") -> str:
    return f"CASE WHEN coalesce({consent}, false) THEN {email} ELSE {masked_email_sql(email)} END"


def consented_phone_sql(phone: str = "phone", by_phone: str = "consent_phone", by_sms: str = "consent_sms") -> str:
    return (f"CASE WHEN coalesce({by_phone}, false) OR coalesce({by_sms}, false) THEN {phone} "
            f"ELSE {masked_phone_sql(phone)} END")
