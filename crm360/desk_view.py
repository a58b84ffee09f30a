"""What an agent wrote at the desk, shown at once on the customer's record (before any ETL run).

`overlay` lays one customer's desk writes over the rows the page loaded: calls become contacts
in the timeline, desk complaints become open complaints whose 24-hour clock runs from when they
were opened, updates change the complaint they update, consent changes and do-not-contact
requests change the profile. Rows a later ETL run already loaded from the desk are not shown twice:
calls and complaints by their number, consent changes by the change-log cursor the database
recorded (`desk_intake`).
"""
from __future__ import annotations

from dataclasses import replace

import polars as pl

from crm360.desk import DeskRecord
from crm360.record import CustomerRecord


def overlay(record: CustomerRecord, desk: DeskRecord, loaded_through: int = 0,
            products: pl.DataFrame | None = None) -> CustomerRecord:
    """The record with the desk's writes applied (the same record when there are none)."""
    if desk.empty:
        return record
    interactions = _with_calls(record.interactions, desk.calls)
    complaints = _with_complaints(record.complaints, desk.complaints, products)
    profile = _with_consent(dict(record.profile), desk.consent.filter(pl.col("cursor") > loaded_through))
    if complaints is not record.complaints:
        profile["open_complaints"] = int((complaints["status"] != "resolved").sum())
    if desk.calls.height:
        latest = desk.calls["called_at"].max()
        if profile.get("last_contact_at") is None or latest > profile["last_contact_at"]:
            profile["last_contact_at"] = latest
    return replace(record, profile=profile, interactions=interactions, complaints=complaints)


def _with_calls(interactions: pl.DataFrame, calls: pl.DataFrame) -> pl.DataFrame:
    new = calls.filter(~pl.col("call_id").is_in(interactions["interaction_id"].implode()))
    if new.is_empty():
        return interactions
    rows = new.select(
        pl.col("call_id").alias("interaction_id"), pl.col("called_at").alias("started_at"), "channel",
        pl.lit("inbound").alias("direction"), pl.col("reason").alias("topic"), pl.lit(None).alias("agent_id"),
        pl.lit(None).alias("duration_seconds"),
        (pl.col("outcome") == "resolved_first_contact").alias("resolved_on_first_contact"),
        pl.lit(None).alias("csat"), pl.col("note").alias("notes"))
    return pl.concat([interactions, rows.cast(interactions.schema)], how="vertical")


_STATUS = (pl.when(pl.col("resolved_at").is_not_null()).then(pl.lit("resolved"))
           .when(pl.col("first_response_at").is_not_null()).then(pl.lit("in_progress"))
           .otherwise(pl.lit("open")))


def _with_complaints(complaints: pl.DataFrame, desk: pl.DataFrame, products: pl.DataFrame | None) -> pl.DataFrame:
    if desk.is_empty():
        return complaints
    known = complaints["complaint_id"].implode()
    updated = complaints
    changes = desk.filter(pl.col("complaint_id").is_in(known))
    if changes.height:
        # The desk's answer and resolution where it gave them; the loaded first answer stands.
        joined = complaints.join(changes.select("complaint_id", pl.col("first_response_at").alias("_answered"),
                                                pl.col("resolved_at").alias("_resolved"),
                                                pl.col("resolution").alias("_resolution"),
                                                pl.col("refund_try").alias("_refund")),
                                 on="complaint_id", how="left")
        updated = joined.with_columns(
            pl.coalesce("first_response_at", "_answered").alias("first_response_at"),
            pl.coalesce("_resolved", "resolved_at").alias("resolved_at"),
            pl.coalesce("_resolution", "resolution").alias("resolution"),
            pl.coalesce(pl.col("_refund").cast(complaints.schema["refund_amount_try"]),
                        "refund_amount_try").alias("refund_amount_try"),
        ).with_columns(
            pl.when(pl.col("_answered").is_not_null() | pl.col("_resolved").is_not_null())
            .then(_STATUS).otherwise(pl.col("status")).alias("status")
        ).drop("_answered", "_resolved", "_resolution", "_refund")
    opened = desk.filter((pl.col("origin") == "desk") & ~pl.col("complaint_id").is_in(known))
    if opened.is_empty():
        return updated
    rows = opened.select(
        "complaint_id", "opened_at", "channel", "category", "severity", "product_id", "first_response_at",
        "resolved_at", _STATUS.alias("status"), "resolution", pl.lit(None).alias("satisfaction_after"),
        pl.col("refund_try").alias("refund_amount_try"), "description")
    extra = [name for name in complaints.columns if name not in rows.columns]
    if products is not None and extra:
        rows = rows.join(products.select("product_id", *extra), on="product_id", how="left")
    else:
        rows = rows.with_columns(pl.lit(None).alias(name) for name in extra)
    return pl.concat([updated, rows.select(complaints.columns).cast(complaints.schema)], how="vertical")


def _with_consent(profile: dict, changes: pl.DataFrame) -> dict:
    for change in changes.iter_rows(named=True):
        if change["channel"] is not None:
            refused = change["channel"] in (profile.get("iys_refused") or [])
            profile[f"consent_{change['channel']}"] = bool(change["given"]) and not refused
        if change["do_not_contact"]:
            profile["do_not_contact"] = True
    return profile
