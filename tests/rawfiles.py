"""Builds raw export directories by hand for tests: each file in the format its source system
writes, from a few rows given as dicts. Missing files are written with a header and no rows."""
from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from etl.mapping import seed_sources
from seed.export import COMPLAINT_HEADERS

CUSTOMER_DEFAULTS = {
    "full_name": "Ayşe Yılmaz", "email": "ayse@example.com", "phone": "0532 123 45 67",
    "city": "İstanbul", "birth_date": "1985-04-01", "signup_date": "2024-01-10",
    "preferred_channel": "phone", "language": "tr", "consent_email": "true",
    "consent_email_at": "2024-01-10", "consent_sms": "false", "consent_sms_at": "",
    "consent_phone": "false", "consent_phone_at": "", "do_not_contact": "false",
    "do_not_contact_at": "",
}
INTERACTION_DEFAULTS = {
    "started_at": "2026-06-01 10:00:00", "channel": "phone", "direction": "inbound",
    "topic": "order_status", "agent_id": "A0001", "duration_seconds": "120",
    "resolved_on_first_contact": "true", "csat": "", "notes": "",
}
PURCHASE_DEFAULTS = {
    "ordered_at": "2026-06-01 10:00:00", "product_id": 10001, "category": "Elektronik",
    "quantity": 1, "net_amount_try": 100.0, "sales_channel": "online", "status": "completed",
}
COMPLAINT_DEFAULTS = {
    "opened_at": "01.06.2026 10:00", "channel": "phone", "category": "late_delivery",
    "severity": "medium", "product_id": "", "first_response_at": "", "resolved_at": "",
    "status": "open", "resolution": "", "satisfaction_after": "", "refund_amount_try": "",
    "description": "",
}
SURVEY_DEFAULTS = {"responded_at": "2026-06-01 10:00:00", "touchpoint": "purchase",
                   "nps_score": 9, "comment": None}


def _own_contact(customer: dict) -> dict:
    """Each made-up customer a person of their own: an e-mail and phone of theirs, unless the test
    gives some (two records with the same e-mail and phone are one person, and merged)."""
    number = int(customer.get("customer_id") or 0) % 10_000_000
    return {"email": f"customer{number}@example.com", "phone": f"0532 {number:07d}"}


def _csv_text(header: list[str], rows: list[dict], sep: str = ",") -> str:
    def cell(value: object) -> str:
        text = "" if value is None else str(value)
        if any(ch in text for ch in (sep, '"', "\n", "\r")):
            text = '"' + text.replace('"', '""') + '"'
        return text
    lines = [sep.join(header)]
    lines += [sep.join(cell(row.get(column, "")) for column in header) for row in rows]
    return "\n".join(lines) + "\n"


def write_raw(directory: Path, *, customers: list[dict] | None = None,
              interactions: list[dict] | None = None, purchases: list[dict] | None = None,
              complaints: list[dict] | None = None, surveys: list[dict] | None = None,
              agents: list[dict] | None = None, products: list[dict] | None = None,
              product_issues: list[dict] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    agents = agents if agents is not None else [
        {"agent_id": "A0001", "full_name": "Deniz Kaya", "team": "Çağrı Merkezi"}]
    products = products if products is not None else [
        {"product_id": 10001, "name": "Nova Kulaklık", "category": "Elektronik",
         "list_price_try": 100.0}]
    columns = {source.entity: list(source.columns) for source in seed_sources()}
    (directory / "agents.csv").write_text(_csv_text(columns["agents"], agents), encoding="utf-8")
    (directory / "products.jsonl").write_text(
        "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in products), encoding="utf-8")
    (directory / "product_issues.csv").write_text(
        _csv_text(columns["product_issues"], product_issues or []), encoding="utf-8")
    (directory / "customers.csv").write_text(
        _csv_text(columns["customers"], [{**CUSTOMER_DEFAULTS, **_own_contact(c), **c} for c in customers or []]),
        encoding="utf-8")
    (directory / "interactions.csv").write_text(
        _csv_text(columns["interactions"],
                  [{**INTERACTION_DEFAULTS, **i} for i in interactions or []]), encoding="utf-8")
    purchase_rows = [{**PURCHASE_DEFAULTS, **p} for p in purchases or []]
    schema = {"order_id": pl.Int64, "customer_id": pl.Int64, "ordered_at": pl.String,
              "product_id": pl.Int64, "category": pl.String, "quantity": pl.Int32,
              "net_amount_try": pl.Float64, "sales_channel": pl.String, "status": pl.String}
    frame = pl.DataFrame(purchase_rows, schema=schema).with_columns(
        pl.col("ordered_at").str.to_datetime("%Y-%m-%d %H:%M:%S"))
    frame.write_parquet(directory / "purchases.parquet")
    complaint_rows = [{**COMPLAINT_DEFAULTS, **c} for c in complaints or []]
    text = _csv_text(list(COMPLAINT_HEADERS.values()),
                     [{COMPLAINT_HEADERS[k]: v for k, v in row.items()} for row in complaint_rows],
                     sep=";")
    (directory / "complaints.csv").write_bytes("\ufeff".encode() + text.encode("utf-8"))
    (directory / "survey_responses.jsonl").write_text(
        "".join(json.dumps({**SURVEY_DEFAULTS, **s}, ensure_ascii=False) + "\n"
                for s in surveys or []), encoding="utf-8")
    return directory
