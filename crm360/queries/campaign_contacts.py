"""Who a campaign may still contact, and how: its members checked against today's consent.

A campaign's list is fixed when it is made; consent is not. A customer who withdrew consent on
the campaign's channel, refused it in İYS or asked not to be contacted since then is no longer
reachable, whatever the list says. So the working list (the file a caller or a mailing tool
works from, and the customers the page offers to record a contact for) is read through the
consent of the published data each time:
- marketing campaigns: the channel must be among the customer's marketing channels
  (marketing_consent: consented, not refused in İYS, an address on file), not do-not-contact;
- service campaigns: the customer's own matter needs no marketing consent, but an address on
  the channel and no do-not-contact.
The control group is never on a working list: contacting it would spoil the measurement.
"""
from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from crm360.outreach_rules import MARKETING, SERVICE
from crm360.queries import desk_consent
from crm360.store import Database

# Why a member cannot be contacted now, in words for the page.
NOT_REACHABLE = {
    "do_not_contact": "asked not to be contacted",
    "no_consent": "no marketing consent on the channel any more (withdrawn, or refused in İYS)",
    "no_address": "no address on file for the channel",
}


def kinds_for(role: str) -> tuple[str, ...]:
    """The campaigns a role works: marketing its own, the service lead service ones, local mode both."""
    return {"marketing": (MARKETING,), "service_lead": (SERVICE,)}.get(role, (MARKETING, SERVICE))


def member_reach(db: Database, members: Sequence[dict], channel: str, kind: str) -> pl.DataFrame:
    """Each member of the contact group (not the control group) with name, city, the address for
    the channel, and `blocked`: why they may not be contacted now (null when they may).

    `members` are the campaign store's rows (customer_id, control, contacted_at, outcome, reasons)."""
    wanted = [m for m in members if not m["control"]]
    address = "c.email" if channel == "email" else "c.phone"
    consent = "$2 IS NOT NULL" if kind == SERVICE else "list_contains(m.marketing_channels, $2)"
    with db.snapshot() as snap:
        desk_consent.apply(snap)  # a withdrawal recorded at the desk counts at once
        frame = snap.frame(
        f"""WITH members AS (
                SELECT unnest($1::BIGINT[]) AS customer_id, unnest($3::VARCHAR[]) AS contacted_at,
                       unnest($4::VARCHAR[]) AS outcome, unnest($5::VARCHAR[]) AS reasons)
            SELECT w.customer_id, c.full_name, c.city, {address} AS address, w.reasons, w.contacted_at, w.outcome,
                   CASE WHEN m.customer_id IS NULL OR m.do_not_contact THEN 'do_not_contact'
                        WHEN {address} IS NULL THEN 'no_address'
                        WHEN NOT {consent} THEN 'no_consent' END AS blocked
            FROM members w
            LEFT JOIN customers c USING (customer_id)
            LEFT JOIN marketing_consent m USING (customer_id)
            ORDER BY w.customer_id""",
        [[int(m["customer_id"]) for m in wanted], channel, [m["contacted_at"] for m in wanted],
         [m["outcome"] for m in wanted], [m["reasons"] for m in wanted]])
    return frame.rename({"address": "email" if channel == "email" else "phone"})


def working_list(reach: pl.DataFrame) -> pl.DataFrame:
    """The members still to contact who may be contacted now: the file a caller works from."""
    return reach.filter(pl.col("blocked").is_null() & pl.col("contacted_at").is_null()).drop("blocked", "outcome",
                                                                                              "contacted_at")


def contact_list(db: Database, members: Sequence[dict], channel: str, kind: str) -> pl.DataFrame:
    """The working list read afresh: what a campaign's contact-list download holds."""
    return working_list(member_reach(db, members, channel, kind))


def blocked_counts(reach: pl.DataFrame) -> dict[str, int]:
    """How many members may not be contacted now, by reason (only reasons that occur)."""
    counts = reach.filter(pl.col("blocked").is_not_null()).group_by("blocked").len()
    return {row["blocked"]: row["len"] for row in counts.iter_rows(named=True)}
