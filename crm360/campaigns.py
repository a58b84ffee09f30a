"""Campaigns: outreach lists turned into tracked work. Written by the app, so they live in their
own SQLite file beside the published database, never in a database the ETL replaces.

SQLite in WAL mode lets readers go on while one writer writes; every write is one short
transaction with a busy timeout, so two users saving at once both succeed, one after the other.
A campaign is saved once: its draft key (what it is: kind, name, channel, due date, list) is
unique, so "Create" pressed twice, or two people creating the same campaign at the same moment,
make one campaign and both are told its number.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from crm360 import clock, config
from crm360.outreach_rules import MARKETING, SERVICE
from crm360.sqlite_store import SqliteStore

STATUSES = ("planned", "running", "finished", "cancelled")
OUTCOMES = ("reached", "no_answer", "declined", "converted")
KINDS = (MARKETING, SERVICE)  # service: about the customer's own matter, on the channel it came in on
CHANNELS = ("phone", "email", "sms")
SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    campaign_id INTEGER PRIMARY KEY, name TEXT NOT NULL, owner TEXT NOT NULL, channel TEXT NOT NULL,
    due_date TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'planned', goal TEXT NOT NULL DEFAULT '',
    filters TEXT NOT NULL DEFAULT '', control_share REAL NOT NULL, created_at TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'marketing', draft_key TEXT);
CREATE TABLE IF NOT EXISTS campaign_members (
    campaign_id INTEGER NOT NULL REFERENCES campaigns, customer_id INTEGER NOT NULL,
    control INTEGER NOT NULL, reasons TEXT NOT NULL DEFAULT '',
    contacted_at TEXT, outcome TEXT, PRIMARY KEY (campaign_id, customer_id));
CREATE INDEX IF NOT EXISTS campaign_members_customer ON campaign_members (customer_id);
"""
# Columns added after the first release: a store written by it gains them when opened.
ADDED_COLUMNS = {"kind": "TEXT NOT NULL DEFAULT 'marketing'", "draft_key": "TEXT"}
DRAFT_KEY_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS campaigns_draft_key ON campaigns (draft_key)"


def store_path() -> Path:
    """`CRM_CAMPAIGNS`, else campaigns.sqlite beside the published database."""
    return Path(os.environ.get("CRM_CAMPAIGNS", str(config.db_path().with_name("campaigns.sqlite"))))


class CampaignError(ValueError):
    """A campaign that cannot be saved as asked, with the reason for the user."""


@dataclass(frozen=True)
class NewCampaign:
    name: str
    owner: str
    channel: str
    due_date: date
    goal: str = ""
    filters: str = ""
    control_share: float = config.CAMPAIGN_CONTROL_SHARE
    kind: str = MARKETING

    def check(self) -> None:
        for label, value in (("name", self.name), ("owner", self.owner), ("channel", self.channel)):
            if not value.strip():
                raise CampaignError(f"A campaign needs {'an' if label[0] in 'aeiou' else 'a'} {label}.")
            if len(value) > 200:
                raise CampaignError(f"The {label} is {len(value):,} characters; 200 at most.")
        if self.channel not in CHANNELS:
            raise CampaignError(f"“{self.channel}” is not a channel ({', '.join(CHANNELS)}).")
        if self.kind not in KINDS:
            raise CampaignError(f"“{self.kind}” is not a kind of campaign ({', '.join(KINDS)}).")
        if not 0 <= self.control_share < 1:
            raise CampaignError("The control group is a share from 0 to just under 1.")
        if self.kind == SERVICE and self.control_share:
            # A control group is left uncontacted on purpose: nobody's complaint goes unanswered to measure a lift.
            raise CampaignError("A service campaign holds back no one: every customer's matter gets its answer.")

    def draft_key(self) -> str:
        """What makes two drafts the same campaign: kind, name (case and spaces aside), channel,
        due date and the list's filters. Owner, goal and control share are details of one draft."""
        what = [self.kind, " ".join(self.name.casefold().split()), self.channel, self.due_date.isoformat(),
                self.filters]
        return hashlib.sha256(json.dumps(what, ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Saved:
    campaign_id: int
    created: bool  # False: the same campaign was already saved (a second click, or someone else)


class CampaignStore(SqliteStore):
    SCHEMA = SCHEMA
    ROWS_AS_DICTS = True

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(path or store_path())
        with self._write() as con:
            present = {row[1] for row in con.execute("PRAGMA table_info(campaigns)")}
            for column, definition in ADDED_COLUMNS.items():
                if column not in present:
                    con.execute(f"ALTER TABLE campaigns ADD COLUMN {column} {definition}")
            con.execute(DRAFT_KEY_INDEX)

    def create(self, campaign: NewCampaign, members: Sequence[tuple[int, str]], seed: int | None = None,
               when: datetime | None = None) -> int:
        """The campaign's number: saved now, or earlier if the same campaign was (see `save`)."""
        return self.save(campaign, members, seed, when).campaign_id

    def save(self, campaign: NewCampaign, members: Sequence[tuple[int, str]], seed: int | None = None,
             when: datetime | None = None) -> Saved:
        """Save a campaign with its customers ((customer_id, reasons) pairs); a random share of them,
        drawn now, is the control group that is not contacted, for measuring success later. The
        same campaign (same draft key) is saved once: a second save returns the first one's number.
        The check and the insert are one write transaction, which SQLite runs one at a time, and
        the unique draft key stops a duplicate even so."""
        campaign.check()
        if not members:
            raise CampaignError("The list is empty: there is nobody to contact.")
        draw = random.Random(seed)
        key = campaign.draft_key()
        with self._write() as con:
            found = con.execute("SELECT campaign_id FROM campaigns WHERE draft_key = ?", (key,)).fetchone()
            if found is not None:
                return Saved(int(found[0]), created=False)
            campaign_id = con.execute(
                """INSERT INTO campaigns (name, owner, channel, due_date, goal, filters, control_share, created_at,
                                          kind, draft_key)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (campaign.name.strip(), campaign.owner.strip(), campaign.channel, campaign.due_date.isoformat(),
                 campaign.goal, campaign.filters, campaign.control_share,
                 (when or clock.wall()).isoformat(timespec="seconds"), campaign.kind, key)).lastrowid
            con.executemany(
                "INSERT INTO campaign_members (campaign_id, customer_id, control, reasons) VALUES (?, ?, ?, ?)",
                [(campaign_id, int(customer_id), int(draw.random() < campaign.control_share), reasons)
                 for customer_id, reasons in members])
        return Saved(int(campaign_id), created=True)

    def set_status(self, campaign_id: int, status: str) -> None:
        if status not in STATUSES:
            raise CampaignError(f"“{status}” is not a campaign status ({', '.join(STATUSES)}).")
        with self._write() as con:
            updated = con.execute("UPDATE campaigns SET status = ? WHERE campaign_id = ?", (status, campaign_id))
            if updated.rowcount == 0:
                raise CampaignError(f"There is no campaign #{campaign_id}.")

    def mark_contacted(self, campaign_id: int, customer_id: int, outcome: str, when: datetime | None = None) -> None:
        if self.mark_contacted_many(campaign_id, [customer_id], outcome, when) == 0:
            raise CampaignError(f"Customer #{customer_id} is not on campaign #{campaign_id}'s contact list "
                                "(or is in its control group, which is not contacted).")

    def mark_contacted_many(self, campaign_id: int, customer_ids: Sequence[int], outcome: str,
                            when: datetime | None = None) -> int:
        """Record one outcome for many customers at once (a dialler's or mailing tool's report);
        returns how many were on the contact list. Control-group customers are left untouched."""
        if outcome not in OUTCOMES:
            raise CampaignError(f"“{outcome}” is not an outcome ({', '.join(OUTCOMES)}).")
        stamp = (when or clock.wall()).isoformat(timespec="seconds")
        with self._write() as con:
            before = con.total_changes
            con.executemany(
                """UPDATE campaign_members SET contacted_at = ?, outcome = ?
                   WHERE campaign_id = ? AND customer_id = ? AND control = 0""",
                [(stamp, outcome, campaign_id, int(customer_id)) for customer_id in customer_ids])
            return con.total_changes - before

    def campaigns(self) -> list[dict]:
        """Every campaign with its progress: customers, control group, contacted, converted."""
        with self._connection() as con:
            return [dict(row) for row in con.execute(
                """SELECT c.*, count(m.customer_id) AS customers, sum(m.control) AS control_group,
                          sum(m.contacted_at IS NOT NULL) AS contacted, sum(m.outcome = 'converted') AS converted
                   FROM campaigns c LEFT JOIN campaign_members m USING (campaign_id)
                   GROUP BY c.campaign_id ORDER BY c.due_date, c.campaign_id""")]

    def campaign(self, campaign_id: int) -> dict:
        with self._connection() as con:
            found = con.execute("SELECT * FROM campaigns WHERE campaign_id = ?", (campaign_id,)).fetchone()
        if found is None:
            raise CampaignError(f"There is no campaign #{campaign_id}.")
        return dict(found)

    def members(self, campaign_id: int) -> list[dict]:
        with self._connection() as con:
            return [dict(row) for row in con.execute(
                "SELECT * FROM campaign_members WHERE campaign_id = ? ORDER BY control, customer_id", (campaign_id,))]

    def of_customer(self, customer_id: int) -> list[dict]:
        """The campaigns a customer is part of (control group included: the agent should know not
        to pitch it), newest first."""
        with self._connection() as con:
            return [dict(row) for row in con.execute(
                """SELECT c.campaign_id, c.name, c.kind, c.owner, c.channel, c.due_date, c.status, m.control,
                          m.contacted_at, m.outcome, m.reasons
                   FROM campaign_members m JOIN campaigns c USING (campaign_id)
                   WHERE m.customer_id = ? ORDER BY c.created_at DESC""", (customer_id,))]

    def recently_contacted(self, since: datetime) -> set[int]:
        """Customers contacted in any campaign since `since`: the contact-pressure hold."""
        with self._connection() as con:
            return {row[0] for row in con.execute(
                "SELECT DISTINCT customer_id FROM campaign_members WHERE contacted_at >= ?",
                (since.isoformat(timespec="seconds"),))}

    def held_back(self, now: datetime) -> tuple[int, ...]:
        """Customers to leave off outreach lists now: contacted in a campaign within the last
        `config.CONTACT_PRESSURE_DAYS` days. Applied when a list is read (page, export, command
        line), not in the `outreach_candidates` mart, which the ETL rebuilds while campaigns
        change all day."""
        return tuple(sorted(self.recently_contacted(now - timedelta(days=config.CONTACT_PRESSURE_DAYS))))
