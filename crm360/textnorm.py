"""Normalisation shared by the ETL (as SQL) and the search box (as Python).

Both forms live here side by side so they cannot drift apart; a test feeds the same inputs
through each and demands the same answer.
"""
from __future__ import annotations

import re

# Turkish letters, and the circumflex vowels of loan words, folded to plain ASCII before
# lower-casing: lower('İ') is not 'i' in most engines, and people type without them.
_TURKISH_FROM = "İIıŞşĞğÇçÖöÜüÂâÎîÛû"
_TURKISH_TO = "iiissggccoouuaaiiuu"
_FOLD_TABLE = str.maketrans(_TURKISH_FROM, _TURKISH_TO)


def fold_text(text: str) -> str:
    """Search key: Turkish letters folded, lower case, runs of spaces collapsed."""
    folded = text.translate(_FOLD_TABLE).lower()
    return " ".join(folded.split())


def fold_text_sql(column: str) -> str:
    """The SQL twin of `fold_text` for a column expression."""
    return (
        f"regexp_replace(trim(lower(translate({column}, '{_TURKISH_FROM}', '{_TURKISH_TO}'))),"
        " '\\s+', ' ', 'g')"
    )


_NON_DIGITS = re.compile(r"\D")


def normalize_phone(raw: str | None) -> str | None:
    """E.164 for the ways Turkish numbers are typed, or None when it is not a phone number.

    `+90 532 123 45 67`, `0532 123 4567`, `5321234567`, `0090...`, with dots, dashes or
    brackets, all give `+905321234567`. A foreign number must start with `+` or `00`.
    """
    if raw is None:
        return None
    text = raw.strip()
    digits = _NON_DIGITS.sub("", text)
    if text.startswith("+") or digits.startswith("00"):
        digits = digits[2:] if digits.startswith("00") else digits
        if digits.startswith("90"):
            return _turkish_national(digits[2:])
        return "+" + digits if 8 <= len(digits) <= 15 else None
    if len(digits) == 12 and digits.startswith("90"):
        return _turkish_national(digits[2:])
    if len(digits) == 11 and digits.startswith("0"):
        return _turkish_national(digits[1:])
    return _turkish_national(digits)


def _turkish_national(national: str) -> str | None:
    # Turkish national numbers have 10 digits; area codes start with 2-4, mobiles with 5.
    if len(national) == 10 and national[0] in "2345":
        return "+90" + national
    return None


def normalize_phone_sql(column: str) -> str:
    """The SQL twin of `normalize_phone`."""
    text = f"trim({column})"
    digits = f"regexp_replace({text}, '[^0-9]', '', 'g')"
    intl = (
        f"CASE WHEN {digits} LIKE '00%' THEN substr({digits}, 3) ELSE {digits} END"
    )
    national = (
        f"CASE WHEN {text} LIKE '+%' OR {digits} LIKE '00%' THEN "
        f"  CASE WHEN ({intl}) LIKE '90%' THEN substr({intl}, 3) END "
        f"WHEN length({digits}) = 12 AND {digits} LIKE '90%' THEN substr({digits}, 3) "
        f"WHEN length({digits}) = 11 AND {digits} LIKE '0%' THEN substr({digits}, 2) "
        f"ELSE {digits} END"
    )
    foreign = (
        f"CASE WHEN ({text} LIKE '+%' OR {digits} LIKE '00%') AND ({intl}) NOT LIKE '90%' "
        f"AND length({intl}) BETWEEN 8 AND 15 THEN '+' || ({intl}) END"
    )
    return (
        f"CASE WHEN ({national}) IS NOT NULL AND length({national}) = 10 "
        f"AND substr({national}, 1, 1) IN ('2', '3', '4', '5') THEN '+90' || ({national}) "
        f"ELSE {foreign} END"
    )


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
EMAIL_PATTERN_SQL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def normalize_email(raw: str | None) -> str | None:
    """Trimmed, lower-cased e-mail, or None when it does not look like one."""
    if raw is None:
        return None
    email = raw.strip().lower()
    return email if _EMAIL.match(email) else None


def mask_phone(e164: str | None) -> str:
    """`+90 532 *** ** 67`: enough to tell namesakes apart without reading the number out."""
    if not e164:
        return "—"
    if e164.startswith("+90") and len(e164) == 13:
        return f"+90 {e164[3:6]} *** ** {e164[-2:]}"
    return e164[:4] + "*" * max(0, len(e164) - 6) + e164[-2:]
