"""Consent the agent desk recorded since the published database read the desk, applied to every
marketing list and export at once instead of at the next load.

The ETL bakes consent into marts (marketing_consent, customer_summary, outreach_candidates,
outreach_reach). A withdrawal an agent records must take effect in the next list a marketer
draws, so each query cursor that reads those marts first calls `apply`: it registers the desk's
pending changes (latest per customer and channel, those after the cursor the database recorded in
`desk_intake`) and shadows the four marts with temporary views of the same name that override
consent and do-not-contact for those customers. Temporary views belong to the cursor, so nothing
else sees them, and with no pending change nothing is registered and the marts are read as
they are.
"""
from __future__ import annotations

import duckdb
import polars as pl

from crm360 import desk, masking
from crm360.store import Snapshot

PENDING_TABLE = "desk_pending_consent"
SHADOWED = ("marketing_consent", "customer_summary", "outreach_candidates", "outreach_reach")


def loaded_through(snap: Snapshot) -> int:
    """The desk change-log cursor the ETL had read when it built this version (0: none)."""
    def read() -> int:
        try:
            row = snap.cursor.execute("SELECT max(loaded_through) FROM desk_intake").fetchall()
        except duckdb.CatalogException:  # a database built before the desk was a source
            return 0
        return int(row[0][0] or 0)
    return snap.memo("desk_loaded_through", read)


def pending(snap: Snapshot) -> pl.DataFrame:
    """Per customer with desk consent changes the database has not read: the latest answer per
    channel (null: no change) and whether they asked not to be contacted."""
    path = desk.store_path_beside(snap.version)  # a version sits beside its published link
    if not path.exists():
        return pl.DataFrame()
    changes = desk.shared_store(path).consent_since(loaded_through(snap))
    if changes.is_empty():
        return changes
    latest = [pl.col("given").filter(pl.col("channel") == channel).last().alias(channel)
              for channel in ("email", "sms", "phone")]
    return changes.group_by("customer_id").agg(*latest, pl.col("do_not_contact").any())


def asked_not_to_be_contacted(snap: Snapshot) -> list[int]:
    """Customers who asked an agent not to be contacted since the database read the desk: lists
    computed once per database version (the service lists) leave them out with this."""
    changes = pending(snap)
    if changes.is_empty():
        return []
    return changes.filter(pl.col("do_not_contact"))["customer_id"].to_list()


def apply(snap: Snapshot) -> int:
    """Shadow the consent marts on this cursor with the desk's pending changes; how many
    customers they touch (0: nothing done)."""
    changes = pending(snap)
    if changes.is_empty():
        return 0
    cursor = snap.cursor
    cursor.register(PENDING_TABLE, changes.to_arrow())
    base = '"' + cursor.execute("SELECT current_database()").fetchall()[0][0].replace('"', '""') + '".main'
    for view, sql in _views(base).items():
        cursor.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS {sql}")
    return changes.height


def _consent(channel: str) -> str:
    """A channel's consent: the desk's answer where it gave one (never past an İYS refusal)."""
    return (f"CASE WHEN d.{channel} IS NULL THEN m.consent_{channel} "
            f"ELSE d.{channel} AND NOT list_contains(coalesce(m.iys_refused, []), '{channel}') END")


def _views(base: str) -> dict[str, str]:
    email, sms, phone = _consent("email"), _consent("sms"), _consent("phone")
    return {
        "marketing_consent": f"""
            SELECT m.customer_id, m.do_not_contact OR coalesce(d.do_not_contact, false) AS do_not_contact,
                   m.preferred_channel, {email} AS consent_email, {sms} AS consent_sms, {phone} AS consent_phone,
                   m.iys_refused,
                   CASE WHEN d.customer_id IS NULL THEN m.marketing_channels ELSE list_filter(['email', 'sms', 'phone'],
                       lambda ch: (ch = 'email' AND coalesce({email}, false) AND c.email IS NOT NULL)
                               OR (ch = 'sms' AND coalesce({sms}, false) AND c.phone IS NOT NULL)
                               OR (ch = 'phone' AND coalesce({phone}, false) AND c.phone IS NOT NULL)) END
                       AS marketing_channels
            FROM {base}.marketing_consent m
            LEFT JOIN {PENDING_TABLE} d USING (customer_id)
            LEFT JOIN {base}.customers c ON d.customer_id IS NOT NULL AND c.customer_id = m.customer_id""",
        "customer_summary": f"""
            SELECT s.* REPLACE (coalesce(n.consent_email, s.consent_email) AS consent_email,
                                coalesce(n.consent_sms, s.consent_sms) AS consent_sms,
                                coalesce(n.consent_phone, s.consent_phone) AS consent_phone,
                                coalesce(n.do_not_contact, s.do_not_contact) AS do_not_contact)
            FROM {base}.customer_summary s
            LEFT JOIN (SELECT * FROM marketing_consent WHERE customer_id IN (SELECT customer_id FROM {PENDING_TABLE}))
                 n USING (customer_id)""",
        # A marketing-only row with no consented channel left, and anyone who asked not to be
        # contacted, leave the list; contact details follow the new consent.
        "outreach_candidates": f"""
            SELECT o.* REPLACE (
                       CASE WHEN n.customer_id IS NULL THEN o.email
                            ELSE {masking.consented_email_sql('c.email', 'n.consent_email')} END AS email,
                       CASE WHEN n.customer_id IS NULL THEN o.phone
                            ELSE {masking.consented_phone_sql('c.phone', 'n.consent_phone', 'n.consent_sms')} END
                            AS phone,
                       CASE WHEN n.customer_id IS NULL THEN o.email_masked
                            ELSE {masking.unconsented_email_masked_sql('c.email', 'n.consent_email')} END
                            AS email_masked,
                       CASE WHEN n.customer_id IS NULL THEN o.phone_masked
                            ELSE {masking.unconsented_phone_masked_sql('c.phone', 'n.consent_phone', 'n.consent_sms')}
                            END AS phone_masked,
                       CASE WHEN n.customer_id IS NULL OR NOT o.marketing THEN o.marketing_channel
                            WHEN list_contains(n.marketing_channels, o.marketing_channel) THEN o.marketing_channel
                            ELSE n.marketing_channels[1] END AS marketing_channel)
            FROM {base}.outreach_candidates o
            LEFT JOIN (SELECT * FROM marketing_consent WHERE customer_id IN (SELECT customer_id FROM {PENDING_TABLE}))
                 n USING (customer_id)
            LEFT JOIN {base}.customers c ON n.customer_id IS NOT NULL AND c.customer_id = o.customer_id
            WHERE n.customer_id IS NULL OR (NOT n.do_not_contact AND (o.service OR len(n.marketing_channels) > 0))""",
        "outreach_reach": f"""
            SELECT r.* REPLACE (coalesce(n.do_not_contact, r.do_not_contact) AS do_not_contact,
                                coalesce(n.marketing_channels, r.marketing_channels) AS marketing_channels)
            FROM {base}.outreach_reach r
            LEFT JOIN (SELECT * FROM marketing_consent WHERE customer_id IN (SELECT customer_id FROM {PENDING_TABLE}))
                 n USING (customer_id)""",
    }
