"""Contact details shown only where the customer agreed to be contacted.

A marketing list carries a customer's e-mail only with e-mail consent and their phone only with
phone or SMS consent (consent as `marketing_consent` applies it: the CRM's, less İYS refusals);
otherwise the detail column is empty and a masked copy, enough to tell two customers apart but
not to contact them, sits in a column of its own (`email_masked`, `phone_masked`), so a column
named phone holds phones a dialler can call and nothing else. The rule is applied where the list
is made, in the `outreach_candidates` mart (the `{consented_*}` and `{masked_*}` placeholders),
so the page, its downloads and the command-line export all read the same columns, and the
unconsented details are never in the marketing table at all.
"""
from __future__ import annotations


def masked_email_sql(email: str) -> str:
    """`a***@example.com`: the first letter and the domain."""
    return f"CASE WHEN {email} IS NULL THEN NULL ELSE left({email}, 1) || '***@' || split_part({email}, '@', 2) END"


def masked_phone_sql(phone: str) -> str:
    """`0532 *** ** 67`, as crm360.textnorm.mask_phone: the national form, which no spreadsheet
    reads as a formula (a leading `+` needed an apostrophe in every exported file)."""
    return (f"CASE WHEN {phone} IS NULL THEN NULL "
            f"WHEN {phone} LIKE '+90%' AND length({phone}) = 13 "
            f"THEN '0' || substr({phone}, 4, 3) || ' *** ** ' || right({phone}, 2) "
            f"ELSE '00' || substr({phone}, 2, 3) || '***' || right({phone}, 2) END")


def consented_email_sql(email: str = "email", consent: str = "consent_email") -> str:
    """The e-mail where consented, else NULL."""
    return f"CASE WHEN coalesce({consent}, false) THEN {email} END"


def unconsented_email_masked_sql(email: str = "email", consent: str = "consent_email") -> str:
    """The masked e-mail where not consented, else NULL (the consented column has it)."""
    return f"CASE WHEN NOT coalesce({consent}, false) THEN {masked_email_sql(email)} END"


def _phone_consented(by_phone: str, by_sms: str) -> str:
    return f"(coalesce({by_phone}, false) OR coalesce({by_sms}, false))"


def consented_phone_sql(phone: str = "phone", by_phone: str = "consent_phone", by_sms: str = "consent_sms") -> str:
    """The phone where a call or an SMS is consented, else NULL."""
    return f"CASE WHEN {_phone_consented(by_phone, by_sms)} THEN {phone} END"


def unconsented_phone_masked_sql(phone: str = "phone", by_phone: str = "consent_phone",
                                 by_sms: str = "consent_sms") -> str:
    """The masked phone where neither a call nor an SMS is consented, else NULL."""
    return f"CASE WHEN NOT {_phone_consented(by_phone, by_sms)} THEN {masked_phone_sql(phone)} END"
