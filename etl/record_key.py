"""How a row of a source without our customer numbers is keyed for the identity step: its
normalised external id, e-mail and phone, joined. Rows with the same key are one record, linked
once (etl/identity.py); the load finds each row's customer by it (etl/extract.py)."""
from __future__ import annotations

from etl.sources import IDENTITY_PREFIX


def normalised(field: str, alias: str = "") -> str:
    """SQL for one identity field as records are compared: e-mails and phones normalised as in
    the customer file, an external id trimmed, a name folded, empty text as NULL."""
    column = f"{alias + '.' if alias else ''}{IDENTITY_PREFIX}{field}"
    text = f"nullif(trim(CAST({column} AS VARCHAR)), '')"
    return {"email": f"normalize_email({column})", "phone": f"normalize_phone({column})",
            "full_name": f"regexp_replace({text}, '\\s+', ' ', 'g')"}.get(field, text)


KEY_FIELDS = ("external_id", "email", "phone")


def key_sql(alias: str = "", present: tuple[str, ...] = KEY_FIELDS) -> str:
    """The record key; a field the source does not have counts as empty (the key is written the
    same whichever fields a source has)."""
    parts = [normalised(field, alias) if field in present else "NULL" for field in KEY_FIELDS]
    return (f"CASE WHEN coalesce({', '.join(parts)}) IS NOT NULL THEN "
            f"concat_ws('|', {', '.join(f'coalesce({p}, {chr(39) * 2})' for p in parts)}) END")


def with_record_key(relation: str, present: tuple[str, ...]) -> str:
    return f"(SELECT *, {key_sql(present=present)} AS _record_key FROM {relation})"


def unlinked_note(alias: str) -> str:
    """What the quarantine shows as the customer of a row the identity step did not link."""
    return (f"CASE WHEN {alias}._record_key IS NULL THEN 'no customer number, e-mail or phone in the row' "
            f"ELSE 'not linked to one customer: ' || {alias}._record_key END")
