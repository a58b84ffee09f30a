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
    folded = f"trim(lower(translate({column}, '{_TURKISH_FROM}', '{_TURKISH_TO}')))"
    # The regex runs only where there is something to collapse: it is the slow part.
    return (f"CASE WHEN contains({folded}, '  ') OR contains({folded}, chr(9)) "
            f"THEN regexp_replace({folded}, '\\s+', ' ', 'g') ELSE {folded} END")


# Characters people type between digits. Anything else (letters, other symbols) means the text
# is not a phone number; removing only these keeps the SQL twin a cheap `translate`.
_PHONE_SEPARATORS = " +-()./"
_STRIP_SEPARATORS = str.maketrans("", "", _PHONE_SEPARATORS)


def normalize_phone(raw: str | None) -> str | None:
    """E.164 for the ways Turkish numbers are typed, or None when it is not a phone number.

    `+90 532 123 45 67`, `0532 123 4567`, `5321234567`, `0090...`, with dots, dashes or
    brackets, all give `+905321234567`. A foreign number must start with `+` or `00`.
    """
    if raw is None:
        return None
    text = raw.strip()
    digits = text.translate(_STRIP_SEPARATORS)
    if not (digits.isascii() and digits.isdigit() and 8 <= len(digits) <= 15):
        return None
    international = text.startswith("+") or digits.startswith("00")
    if digits.startswith("00"):
        digits = digits[2:]
    if international and not digits.startswith("90"):
        return "+" + digits if len(digits) >= 8 else None
    if international or (len(digits) == 12 and digits.startswith("90")):
        national = digits[2:]
    elif len(digits) == 11 and digits.startswith("0"):
        national = digits[1:]
    else:
        national = digits
    # Turkish national numbers have 10 digits; area codes start with 2-4, mobiles with 5.
    if len(national) == 10 and national[0] in "2345":
        return "+90" + national
    return None


def normalize_phone_sql(column: str) -> str:
    """The SQL twin of `normalize_phone` (string functions only: no regex replace, which is
    the slow part of loading a million customers)."""
    text = f"trim({column})"
    raw_digits = f"translate({text}, '{_PHONE_SEPARATORS}', '')"
    digits = f"(CASE WHEN starts_with({raw_digits}, '00') THEN substr({raw_digits}, 3) ELSE {raw_digits} END)"
    international = f"(starts_with({text}, '+') OR starts_with({raw_digits}, '00'))"
    national = (
        f"(CASE WHEN {international} OR (length({digits}) = 12 AND starts_with({digits}, '90')) "
        f"THEN substr({digits}, 3) "
        f"WHEN length({digits}) = 11 AND starts_with({digits}, '0') THEN substr({digits}, 2) "
        f"ELSE {digits} END)"
    )
    return (
        f"CASE WHEN NOT regexp_full_match({raw_digits}, '[0-9]{{8,15}}') THEN NULL "
        f"WHEN {international} AND NOT starts_with({digits}, '90') "
        f"THEN CASE WHEN length({digits}) >= 8 THEN '+' || {digits} END "
        f"WHEN length({national}) = 10 AND substr({national}, 1, 1) IN ('2', '3', '4', '5') "
        f"THEN '+90' || {national} END"
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
    """`0532 *** ** 67`: enough to tell namesakes apart without reading the number out; the
    national form (a foreign number `00` and its country code), so no spreadsheet takes it for a
    formula. crm360.masking.masked_phone_sql writes the same in SQL."""
    if not e164:
        return "—"
    if e164.startswith("+90") and len(e164) == 13:
        return f"0{e164[3:6]} *** ** {e164[-2:]}"
    return "00" + e164[1:4] + "***" + e164[-2:]


_AMOUNT = re.compile(r"^\d{1,3}(?:[.\s]\d{3})*(?:,\d{1,2})?$|^\d+(?:[.,]\d{1,2})?$|^\d{1,3}(?:,\d{3})*\.\d{1,2}$")


def parse_amount(typed: str | None) -> float | None:
    """An amount of money as a Turkish agent types it: `49,90` (the comma is the decimal mark),
    `1.234,56` or `1 234,56` (dots or spaces group thousands); `49.90` and `1,234.56` too. None
    for nothing typed; ValueError, with what to write, for anything else ("1.234" could be either,
    so it is refused rather than guessed)."""
    text = (typed or "").strip().replace("₺", "").replace("TL", "").strip()
    if not text:
        return None
    if len(text) > 20:  # a refund of 10^19 lira is a paste, not an amount
        raise ValueError(f"“{text[:20]}…” is not an amount: write it like 49,90 or 1.234,50.")
    if re.fullmatch(r"\d{1,3}\.\d{3}", text):
        raise ValueError(f"“{text}” could be {text.replace('.', '')} or {text.replace('.', ',')}: write "
                         f"{text.replace('.', '')} or {text.replace('.', ',')} (the comma is the decimal mark).")
    if not _AMOUNT.match(text):
        raise ValueError(f"“{text[:40]}” is not an amount: write it like 49,90 or 1.234,50.")
    if "," in text and ("." not in text or text.rfind(",") > text.rfind(".")):
        text = text.replace(".", "").replace(" ", "").replace(",", ".")  # Turkish writing
    else:
        text = text.replace(",", "").replace(" ", "")
    return float(text)
