"""Queries behind the outreach page: who should hear from us first."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, replace
from datetime import datetime

import polars as pl
import pyarrow as pa

from crm360 import config
from crm360.outreach_rules import MARKETING, RULES, SERVICE
from crm360.queries import desk_consent
from crm360.store import Database, Snapshot

CHANNELS = ("phone", "email", "sms")


def overdue_complaints(db: Database, now: datetime, limit: int = 500) -> pl.DataFrame:
    """Open complaints with no answer after the 24-hour promise, longest waiting first.

    A service contact: the customer raised the matter, so no marketing consent is needed, but
    a customer who asked not to be contacted at all is left out (and counted separately).
    """
    promise = config.RESPONSE_PROMISE_HOURS
    listed = db.memo(("overdue_complaints", now, limit), lambda snap: snap.frame(
            f"""SELECT m.complaint_id, m.customer_id, s.full_name, s.city,
                       m.category, m.severity, m.channel, m.opened_at,
                       round(date_diff('minute', m.opened_at, $1::TIMESTAMP) / 60.0, 1) AS hours_waiting,
                       s.phone, s.email, s.net_revenue_try
                FROM complaints m JOIN customer_summary s USING (customer_id)
                WHERE m.status <> 'resolved' AND m.first_response_at IS NULL
                  AND m.opened_at + INTERVAL {promise} HOUR < $1::TIMESTAMP
                  AND NOT s.do_not_contact
                ORDER BY CASE m.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1
                                         WHEN 'medium' THEN 2 ELSE 3 END,
                         m.opened_at
                LIMIT $2""", [now, limit]))
    return _without_new_do_not_contact(db, listed)


def _without_new_do_not_contact(db: Database, listed: pl.DataFrame) -> pl.DataFrame:
    """A list computed once per database version, less those who asked an agent not to be
    contacted since: their request applies at the next click, not at the next load."""
    with db.snapshot() as snap:
        asked = desk_consent.asked_not_to_be_contacted(snap)
    return listed.filter(~pl.col("customer_id").is_in(asked)) if asked else listed


def overdue_counts(db: Database, now: datetime) -> dict[str, int]:
    """How many overdue complaints there are, and how many are held back by do-not-contact."""
    promise = config.RESPONSE_PROMISE_HOURS
    total, held_back = db.memo(("overdue_counts", now), lambda snap: snap.cursor.execute(
            f"""SELECT count(*), count(*) FILTER (WHERE c.do_not_contact)
                FROM complaints m JOIN customers c USING (customer_id)
                WHERE m.status <> 'resolved' AND m.first_response_at IS NULL
                  AND m.opened_at + INTERVAL {promise} HOUR < ?::TIMESTAMP""", [now]).fetchall()[0])
    with db.snapshot() as snap:
        if asked := desk_consent.asked_not_to_be_contacted(snap):
            held_back += snap.cursor.execute(
                f"""SELECT count(*) FROM complaints m JOIN customers c USING (customer_id)
                    WHERE m.status <> 'resolved' AND m.first_response_at IS NULL AND NOT c.do_not_contact
                      AND m.opened_at + INTERVAL {promise} HOUR < ?::TIMESTAMP
                      AND m.customer_id = ANY(?)""", [now, asked]).fetchall()[0][0]
    return {"overdue": total, "do_not_contact": held_back, "listed": total - held_back}


def fixed_issue_candidates(db: Database, limit: int = 500) -> pl.DataFrame:
    """Customers who complained about a product defect that has since been fixed: tell them.

    The source documents' own example of proactive service. One row per customer and defect,
    newest fix first; do-not-contact customers are left out.
    """
    listed = db.memo(("fixed_issue_candidates", limit), lambda snap: snap.frame(
        """SELECT i.title AS defect, i.fix_shipped_at, i.fix_description,
                  s.customer_id, s.full_name, s.city, s.preferred_channel,
                  max(c.opened_at) AS complained_at, count(*) AS complaints
           FROM complaints c
           JOIN product_issues i ON i.product_id = c.product_id
           JOIN customer_summary s ON s.customer_id = c.customer_id
           WHERE c.category = 'defective_product' AND i.fix_shipped_at IS NOT NULL
             AND c.opened_at < i.fix_shipped_at AND NOT s.do_not_contact
           GROUP BY ALL
           ORDER BY i.fix_shipped_at DESC, complained_at DESC
           LIMIT ?""", [limit]))
    return _without_new_do_not_contact(db, listed)


@dataclass(frozen=True)
class CandidateFilter:
    """The outreach page's filters; an empty tuple means "any"."""

    rules: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    churn_bands: tuple[str, ...] = ()
    min_value_try: float | None = None
    max_value_try: float | None = None
    held_back: tuple[int, ...] = ()  # contacted in a campaign too recently (the contact-pressure hold)
    # Whose list: marketing (every row, consented contact details only) or service (rows with a
    # service reason, with the phone or e-mail their matter needs; the service lead's).
    view: str = MARKETING

    def described(self) -> dict:
        """The filters a person chose, for the audit log (the hold is not a choice)."""
        return {name: value for name, value in asdict(self).items() if value and name != "held_back"}

    def where(self) -> tuple[str, list]:
        """The SQL condition and its parameters. The hold reads the `held_back_customers` table
        that `_registered` puts on the cursor: a list of thousands of customer numbers bound as
        a parameter costs ~10 ms per query, the registered Arrow table ~1 ms once."""
        if self.view not in (MARKETING, SERVICE):
            raise ValueError(f"unknown outreach view {self.view!r}")
        conditions, params = ["service" if self.view == SERVICE else "true"], []
        if self.held_back:
            conditions.append(f"customer_id NOT IN (SELECT customer_id FROM {HELD_BACK_TABLE})")
        for column, chosen in (("rfm_segment", self.segments), ("loyalty_tier", self.tiers), ("city", self.cities),
                               ("churn_risk_band", self.churn_bands)):
            if chosen:
                conditions.append(f"{column} IN (SELECT unnest(?::VARCHAR[]))")
                params.append(list(chosen))
        if self.rules:
            conditions.append("list_has_any(rules, ?::VARCHAR[])")
            params.append(list(self.rules))
        if self.channels:
            conditions.append("(service_channel IN (SELECT unnest(?::VARCHAR[])) "
                              "OR marketing_channel IN (SELECT unnest(?::VARCHAR[])))")
            params += [list(self.channels), list(self.channels)]
        if self.min_value_try is not None:
            conditions.append("value_at_stake_try >= ?")
            params.append(self.min_value_try)
        if self.max_value_try is not None:
            conditions.append("value_at_stake_try <= ?")
            params.append(self.max_value_try)
        return " AND ".join(conditions), params


HELD_BACK_TABLE = "held_back_customers"
_SERVICE_CODES = "[" + ", ".join(f"'{rule.code}'" for rule in RULES if rule.kind == SERVICE) + "]"
_SERVICE_REASONS = "[" + ", ".join("'" + rule.reason.replace("'", "''") + "'" for rule in RULES
                                   if rule.kind == SERVICE) + "]"
# Marketing sees every row with the consented details only (masked ones apart); the service lead
# sees the service rows with the detail their matter needs (outreach_service_contacts).
CANDIDATE_COLUMNS = {
    MARKETING: """customer_id, full_name, city, rfm_segment, loyalty_tier, churn_risk_band, reasons, rules,
        service_channel, marketing_channel, email, phone, email_masked, phone_masked, value_at_stake_try,
        chance_contact_helps, priority""",
    # A service lead works a customer's own matter: the marketing reasons of the same row are not theirs.
    SERVICE: f"""customer_id, full_name, city, rfm_segment, loyalty_tier, churn_risk_band,
        list_filter(reasons, lambda reason: list_contains({_SERVICE_REASONS}, reason)) AS reasons,
        list_filter(rules, lambda rule: list_contains({_SERVICE_CODES}, rule)) AS rules,
        service_channel, service_phone, service_email, value_at_stake_try, chance_contact_helps, priority"""}
CANDIDATE_TABLES = {MARKETING: "outreach_candidates",
                    SERVICE: "outreach_candidates JOIN outreach_service_contacts USING (customer_id)"}
# Two readers: a filter change's four queries overlap on this machine's two cores.
_READERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="outreach-read")


@dataclass(frozen=True)
class CandidateAnswer:
    """What the outreach page shows for one choice of filters."""

    totals: dict
    held_back: int
    by_rule: pl.DataFrame
    top: pl.DataFrame


def filter_answer(db: Database, chosen: CandidateFilter, limit: int = 1_000) -> CandidateAnswer:
    """Totals, the count held back, customers by reason and the top rows, from one version of
    the database, the two larger reads on a second thread."""
    with db.snapshot() as snap:
        top = snap.in_parallel(_READERS, lambda reader: _candidates(reader, chosen, limit))
        by_rule = snap.in_parallel(_READERS, lambda reader: _by_rule(reader, chosen))
        try:
            totals = _totals(snap, chosen)
            held_back = _held_back_count(snap, chosen)
        finally:
            wait([top, by_rule])  # the readers' cursors are children of this snapshot's
        return CandidateAnswer(totals, held_back, by_rule.result(), top.result())


def candidates(db: Database, chosen: CandidateFilter, limit: int | None = 1_000) -> pl.DataFrame:
    """The filtered outreach list, highest priority first (all of it with limit=None)."""
    with db.snapshot() as snap:
        return _candidates(snap, chosen, limit)


def held_back_count(db: Database, chosen: CandidateFilter) -> int:
    """How many customers the filters would list but the contact-pressure hold keeps back."""
    with db.snapshot() as snap:
        return _held_back_count(snap, chosen)


def _registered(snap: Snapshot, chosen: CandidateFilter) -> tuple[str, list]:
    """The filter's condition, with the held-back customers registered on this cursor and the
    desk's consent changes since the load applied (crm360/queries/desk_consent.py)."""
    desk_consent.apply(snap)
    if chosen.held_back:
        snap.cursor.register(HELD_BACK_TABLE, pa.table({"customer_id": pa.array(chosen.held_back, pa.int64())}))
    return chosen.where()


def _candidates(snap: Snapshot, chosen: CandidateFilter, limit: int | None) -> pl.DataFrame:
    where, params = _registered(snap, chosen)
    return snap.arrow_frame(f"SELECT {CANDIDATE_COLUMNS[chosen.view]} FROM {CANDIDATE_TABLES[chosen.view]} "
                            f"WHERE {where} "
                            f"ORDER BY priority DESC, customer_id{' LIMIT ?' if limit else ''}",
                            params + ([limit] if limit else []))


def _held_back_count(snap: Snapshot, chosen: CandidateFilter) -> int:
    if not chosen.held_back:
        return 0
    _registered(snap, chosen)
    where, params = replace(chosen, held_back=()).where()
    return snap.cursor.execute(f"""SELECT count(*) FROM outreach_candidates
                                   WHERE {where} AND customer_id IN (SELECT customer_id FROM {HELD_BACK_TABLE})""",
                               params).fetchall()[0][0]


def _totals(snap: Snapshot, chosen: CandidateFilter) -> dict:
    where, params = _registered(snap, chosen)
    customers, stake, service, marketing = snap.cursor.execute(
        f"""SELECT count(*), coalesce(sum(value_at_stake_try), 0), count(*) FILTER (WHERE service),
                   count(*) FILTER (WHERE marketing)
            FROM outreach_candidates WHERE {where}""", params).fetchall()[0]
    return {"customers": customers, "value_at_stake_try": float(stake), "service": service, "marketing": marketing}


def _by_rule(snap: Snapshot, chosen: CandidateFilter) -> pl.DataFrame:
    where, params = _registered(snap, chosen)
    own_rules = f"WHERE list_contains({_SERVICE_CODES}, rule)" if chosen.view == SERVICE else ""
    return snap.frame(
        f"""SELECT rule, count(*) AS customers, sum(value_at_stake_try) AS value_at_stake_try
            FROM (SELECT unnest(rules) AS rule, value_at_stake_try FROM outreach_candidates WHERE {where})
            {own_rules} GROUP BY rule ORDER BY customers DESC""", params)


def candidate_cities(db: Database) -> list[str]:
    return db.memo("candidate_cities", lambda snap: snap.frame(
        "SELECT DISTINCT city FROM outreach_candidates WHERE city IS NOT NULL ORDER BY city")["city"].to_list())


@dataclass(frozen=True)
class CampaignReach:
    """Who a campaign made from a filtered list would reach on each channel, and who it would
    leave out and why, counted over everyone the filters pick (outreach_reach: do-not-contact
    and unconsented customers included, never named). A marketing campaign reaches a customer
    with marketing consent on its channel (İYS refusals applied); a service campaign (the service
    view: rows with a service reason) reaches a customer on the channel their matter came in on,
    which needs no marketing consent. Nobody who asked not to be contacted, nobody held by the
    contact-pressure rule."""

    kind: str
    picked: int                 # customers the filters pick, before anyone is left out
    do_not_contact: int
    held_back: int              # contacted in a campaign in the last CONTACT_PRESSURE_DAYS days
    reached: dict[str, int]     # channel -> customers the campaign would reach on it

    def no_consent(self, channel: str) -> int:
        """Left out on this channel for want of consent (marketing) or because their matter
        came in on another channel (service)."""
        return self.picked - self.do_not_contact - self.held_back - self.reached[channel]

    def left_out(self, channel: str) -> int:
        return self.picked - self.reached[channel]

    def offered(self) -> list[str]:
        """The channels worth offering: those that reach someone."""
        return [channel for channel in CHANNELS if self.reached[channel] > 0]


def _reachable_sql(view: str) -> str:
    """Whether a row of outreach_reach may get a campaign of this view's kind on channel `?`."""
    if view == SERVICE:  # the matter's channel, and an address on it (a phone number for a call or an SMS)
        return ("(service AND service_channel = ? "
                "AND CASE service_channel WHEN 'email' THEN has_email ELSE has_phone END)")
    return "list_contains(marketing_channels, ?)"


def campaign_reach(db: Database, chosen: CandidateFilter) -> CampaignReach:
    """What a campaign made from this list would reach on each channel, and what it leaves out."""
    with db.snapshot() as snap:
        _registered(snap, chosen)
        where, params = replace(chosen, held_back=()).where()
        held = (f"customer_id IN (SELECT customer_id FROM {HELD_BACK_TABLE})" if chosen.held_back else "false")
        reachable = _reachable_sql(chosen.view)
        counts = ", ".join(f"count(*) FILTER (WHERE NOT do_not_contact AND NOT held AND {reachable})"
                           for _ in CHANNELS)
        row = snap.cursor.execute(
            f"""SELECT count(*), count(*) FILTER (WHERE do_not_contact),
                       count(*) FILTER (WHERE NOT do_not_contact AND held), {counts}
                FROM (SELECT *, {held} AS held FROM outreach_reach WHERE {where})""",
            list(CHANNELS) + params).fetchall()[0]
    return CampaignReach(chosen.view, row[0], row[1], row[2], dict(zip(CHANNELS, row[3:], strict=True)))


def campaign_audience(db: Database, chosen: CandidateFilter, channel: str) -> pl.DataFrame:
    """The customers a campaign on `channel` made from this list reaches (customer_id, reasons):
    the `reached` of campaign_reach, with the reasons that fit the campaign's kind."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    reasons = ("service_reasons" if chosen.view == SERVICE
               else "list_concat(marketing_reasons, service_reasons)")
    with db.snapshot() as snap:
        where, params = _registered(snap, chosen)
        return snap.arrow_frame(
            f"""SELECT customer_id, {reasons} AS reasons FROM outreach_reach
                WHERE NOT do_not_contact AND {_reachable_sql(chosen.view)} AND {where}
                ORDER BY customer_id""", [channel, *params])
