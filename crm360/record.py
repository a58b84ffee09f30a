"""One customer's rows, fetched once per lookup, and everything the agent page derives from them.

A mid-call lookup needs a dozen views of the same few hundred rows (alerts, talking points, a
timeline page, the tabs). Asking DuckDB a dozen planned queries costs more than the data: each
complex query spends milliseconds in the planner. So the page fetches the customer's rows from
each table once, by an indexed equality on customer_id (see `crm360.queries.customer`), and the
functions here derive each view with polars on those rows.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from crm360 import config

ALERT_WINDOW_DAYS = 30  # "recent" for a bad answer or a return: what an agent should mention
# The company's calendar: the loaded timestamps are Istanbul wall-clock times (the exports are
# written by systems in Turkey, without a zone), so "today" is a calendar day there.
LOCAL_ZONE = ZoneInfo("Europe/Istanbul")
# An answered complaint still open grows more urgent with age; a severe one is urgent at once.
COMPLAINT_WARNING_DAYS = 3
COMPLAINT_ERROR_DAYS = 7
URGENT_SEVERITIES = ("high", "critical")
TENURE_IN_DAYS_UNDER = 60  # "customer for 0 months" says nothing: days under two months
TIMELINE_KINDS = ("contact", "purchase", "return", "complaint", "survey")


@dataclass(frozen=True)
class CustomerRecord:
    profile: dict
    interactions: pl.DataFrame
    purchases: pl.DataFrame    # with the product's name
    complaints: pl.DataFrame   # with the product's name and its latest fixed defect, if any
    surveys: pl.DataFrame

    @property
    def customer_id(self) -> int:
        return self.profile["customer_id"]


def _moment(value: datetime) -> pl.Expr:
    # A typed literal: polars converts an untyped Python datetime on every use, which costs
    # more than the filter itself on a customer's few rows.
    return pl.lit(value, dtype=pl.Datetime("us"))


# The views' expressions are built once, here: building a polars expression costs tens of
# microseconds, and a lookup would otherwise build a hundred of them for a few dozen rows.
_PROMISE_STATE_ANSWERED = pl.col("first_response_at").is_not_null()
_OPEN = pl.col("status") != "resolved"
_PROMISE_COLUMNS = {"age_hours": pl.Float64, "promise_state": pl.String, "hours_to_deadline": pl.Float64}


def open_complaints(record: CustomerRecord, now: datetime) -> pl.DataFrame:
    """Open complaints, oldest first, with their age and the 24-hour promise state."""
    if not (record.complaints["status"] != "resolved").any():  # most customers: a cheap column test
        return record.complaints.clear().hstack(
            [pl.Series(name, [], dtype=kind) for name, kind in _PROMISE_COLUMNS.items()])
    promise = config.RESPONSE_PROMISE_HOURS
    age = (_moment(now) - pl.col("opened_at")).dt.total_minutes() / 60.0
    return (
        record.complaints.filter(_OPEN)
        .sort("opened_at")
        .with_columns(
            age.alias("age_hours"),
            pl.when(_PROMISE_STATE_ANSWERED).then(pl.lit("answered"))
            .when(age > promise).then(pl.lit("breached"))
            .otherwise(pl.lit("due")).alias("promise_state"),
            (promise - age).alias("hours_to_deadline"),
        )
    )


_WARNING_SCHEMA = {"happened_at": pl.Datetime("us"), "kind": pl.String, "source": pl.String,
                   "source_id": pl.Int64, "message": pl.String}
_NO_WARNINGS = pl.DataFrame(schema=_WARNING_SCHEMA)
DETRACTOR_MAX, BAD_CSAT_MAX = 6, 2  # NPS 0-6 is a detractor; CSAT 1-2 of 5 is a bad rating


def _latest(frame: pl.DataFrame, moment: str) -> dict | None:
    """The newest row by `moment` (Series operations: a frame sort plans a query)."""
    if frame.height == 0 or frame[moment].null_count() == frame.height:
        return None
    return frame.row(frame[moment].arg_max(), named=True)


def recent_warnings(record: CustomerRecord, now: datetime) -> pl.DataFrame:
    """What the customer last told us, when it was bad, and returns, in the last 30 days, newest
    first: the latest NPS answer if it is a detractor's (0-6, with their comment), the latest
    rated contact if rated 1-2, and every return. An old bad answer followed by a good one is
    no alert: the customer's latest word is."""
    since = now - timedelta(days=ALERT_WINDOW_DAYS)
    rows: list[dict] = []
    answer = _latest(record.surveys, "responded_at")
    if answer and answer["nps_score"] is not None and answer["nps_score"] <= DETRACTOR_MAX \
            and since < answer["responded_at"] <= now:
        comment = f": “{answer['comment']}”" if answer.get("comment") else " (no comment)"
        rows.append({"happened_at": answer["responded_at"], "kind": "detractor", "source": "survey_responses",
                     "source_id": answer["survey_id"],
                     "message": f"NPS {answer['nps_score']}/10 after {_words(answer['touchpoint'])}{comment}"})
    rated = record.interactions.filter(record.interactions["csat"].is_not_null()) \
        if record.interactions.height else record.interactions
    contact = _latest(rated, "started_at")
    if contact and contact["csat"] <= BAD_CSAT_MAX and since < contact["started_at"] <= now:
        rows.append({"happened_at": contact["started_at"], "kind": "bad_csat", "source": "interactions",
                     "source_id": contact["interaction_id"],
                     "message": f"Rated a contact by {_words(contact['channel'])} {contact['csat']}/5 "
                                f"({_words(contact['topic'])})"})
    purchases = record.purchases
    if purchases.height and bool(((purchases["status"] == "returned") & (purchases["ordered_at"] > since)
                                  & (purchases["ordered_at"] <= now)).any()):
        for order in purchases.filter((pl.col("status") == "returned") & (pl.col("ordered_at") > _moment(since))
                                      & (pl.col("ordered_at") <= _moment(now))).iter_rows(named=True):
            rows.append({"happened_at": order["ordered_at"], "kind": "return", "source": "purchases",
                         "source_id": order["order_id"],
                         "message": f"Returned {order['product'] or order['category'] or 'an order'} "
                                    f"({order['net_amount_try']:.2f} TRY)"})
    if not rows:
        return _NO_WARNINGS
    return pl.DataFrame(rows, schema=_WARNING_SCHEMA).sort("happened_at", descending=True)


def _words(code: str | None) -> str:
    return (code or "").replace("_", " ")


_COMPLAINT_STEPS = [
    [pl.col(moment).alias("happened_at"), "channel", "category", "complaint_id", pl.lit(step).alias("step"),
     pl.col(detail).alias("detail") if detail else pl.lit(None, dtype=pl.String).alias("detail")]
    for moment, step, detail in (("opened_at", "opened", "description"), ("first_response_at", "answered", None),
                                 ("resolved_at", "resolved", "resolution"))
]
_COMPLAINT_EVENTS = [
    "happened_at", pl.lit("complaint").alias("kind"), "channel",
    pl.format("{} — {}", pl.col("category").str.replace_all("_", " "), "step").alias("summary"),
    "detail", pl.lit("complaints").alias("source"), pl.col("complaint_id").alias("source_id")]
_CONTACT_EVENTS = [
    pl.col("started_at").alias("happened_at"), pl.lit("contact").alias("kind"), "channel",
    pl.format("{} ({})", pl.col("topic").fill_null("contact").str.replace_all("_", " "),
              pl.col("direction").fill_null("?")).alias("summary"),
    pl.col("notes").alias("detail"), pl.lit("interactions").alias("source"),
    pl.col("interaction_id").alias("source_id")]
_ORDER_EVENTS = [
    pl.col("ordered_at").alias("happened_at"),
    pl.when(pl.col("status") == "returned").then(pl.lit("return")).otherwise(pl.lit("purchase")).alias("kind"),
    pl.col("sales_channel").alias("channel"),
    pl.format("{} × {} — {}", pl.coalesce("product", "category", pl.lit("order")),
              pl.col("quantity").fill_null(1), "status").alias("summary"),
    pl.format("{} TRY", pl.col("net_amount_try").round(2)).alias("detail"),
    pl.lit("purchases").alias("source"), pl.col("order_id").alias("source_id")]
_SURVEY_EVENTS = [
    pl.col("responded_at").alias("happened_at"), pl.lit("survey").alias("kind"),
    pl.col("touchpoint").alias("channel"), pl.format("NPS {}/10", "nps_score").alias("summary"),
    pl.col("comment").alias("detail"), pl.lit("survey_responses").alias("source"),
    pl.col("survey_id").alias("source_id")]
_HAPPENED = pl.col("happened_at").is_not_null()


def timeline(record: CustomerRecord, *, kinds: tuple[str, ...] = TIMELINE_KINDS, channels: tuple[str, ...] = (),
             start: datetime | None = None, end: datetime | None = None) -> pl.DataFrame:
    """Everything that happened to the customer, newest first, filtered; page it with `slice`."""
    complaints = (pl.concat([record.complaints.lazy().select(step) for step in _COMPLAINT_STEPS])
                  .filter(_HAPPENED).select(_COMPLAINT_EVENTS))
    events = pl.concat([record.interactions.lazy().select(_CONTACT_EVENTS),
                        record.purchases.lazy().select(_ORDER_EVENTS), complaints,
                        record.surveys.lazy().select(_SURVEY_EVENTS)], how="vertical_relaxed")
    condition = pl.col("kind").is_in(list(kinds))
    if channels:
        condition &= pl.col("channel").is_in(list(channels))
    if start is not None:
        condition &= pl.col("happened_at") >= _moment(start)
    if end is not None:
        condition &= pl.col("happened_at") <= _moment(end)
    # One lazy plan, collected once: a dozen eager steps on a few dozen rows cost more in
    # per-step overhead than in work.
    return (events.filter(condition)
            .sort(["happened_at", "source", "source_id"], descending=[True, False, False]).collect())


# What a talking point or an alert rests on, in the words an agent would use on the phone.
_SOURCE_WORDS = {"complaints": "complaint #{}", "purchases": "order #{}", "survey_responses": "survey answer #{}",
                 "interactions": "contact #{}", "customer_summary": "customer record", "customers": "customer record"}


def source_in_words(source: str, source_id: int) -> str:
    """`complaint #12`, `order #50`, `customer record`: where a point comes from, not a table name."""
    return _SOURCE_WORDS.get(source, source + " #{}").format(source_id)


@dataclass(frozen=True)
class TalkingPoint:
    text: str
    source: str       # the table the point comes from
    source_id: int    # the row in it, so an agent (or a test) can trace the point

    @property
    def cited(self) -> str:
        return source_in_words(self.source, self.source_id)


def talking_points(record: CustomerRecord, now: datetime) -> list[TalkingPoint]:
    """Things worth saying on this call, each traceable to the rows behind it."""
    return (_complaint_points(record, now) + _fixed_defect_points(record) + _value_points(record.profile)
            + _rhythm_points(record.profile, now) + _birthday_points(record.profile, now))


def local_date(moment: datetime) -> date:
    """The calendar day in Istanbul: a zoned moment is converted, a plain one is Istanbul time already."""
    return moment.astimezone(LOCAL_ZONE).date() if moment.tzinfo is not None else moment.date()


def days_ago(moment: datetime, now: datetime) -> str:
    """"today", "yesterday" or "N days ago" in calendar days in Istanbul (10 minutes before
    midnight is yesterday at 00:05), not in 24-hour spans."""
    days = (local_date(now) - local_date(moment)).days
    return "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"


_VERBS = {"phone": "Called", "email": "Wrote", "post": "Wrote", "in_person": "Came in", "social": "Posted",
          "web_chat": "Chatted", "sms": "Texted"}


def _complaint_points(record: CustomerRecord, now: datetime) -> list[TalkingPoint]:
    if record.complaints.is_empty():
        return []
    rows = record.complaints.filter(pl.col("status") != "resolved").sort("opened_at", descending=True)
    return [TalkingPoint(
        f"{_VERBS.get(r['channel'], 'Got in touch')} {days_ago(r['opened_at'], now)} about "
        f"{r['category'].replace('_', ' ')}{' (' + r['product'] + ')' if r['product'] else ''}; "
        f"{'answered, not resolved yet' if r['first_response_at'] else 'still open, not yet answered'}",
        "complaints", r["complaint_id"]) for r in rows.iter_rows(named=True)]


def _fixed_defect_points(record: CustomerRecord) -> list[TalkingPoint]:
    if record.complaints.is_empty():
        return []
    rows = (record.complaints
            .filter((pl.col("category") == "defective_product") & pl.col("fix_shipped_at").is_not_null()
                    & (pl.col("opened_at").dt.date() < pl.col("fix_shipped_at")))
            .group_by("product", "issue_title", "fix_shipped_at").agg(pl.col("complaint_id").max())
            .sort("fix_shipped_at", descending=True))
    return [TalkingPoint(
        f"Complained about the {r['product']} defect ({r['issue_title'].split(': ', 1)[-1]}), fixed since "
        f"{r['fix_shipped_at']:%d.%m.%Y}: tell them", "complaints", r["complaint_id"])
        for r in rows.iter_rows(named=True)]


def value_rank(profile: dict) -> str | None:
    """The customer's rank by value so far, in the one wording the header and the talking points
    share ("top 6% by value"), for the top HIGH_VALUE_TOP_SHARE of buyers (the outreach lists'
    "high value"); None below it or for a customer who never bought."""
    share = profile.get("value_top_share")
    if share is None or share > config.HIGH_VALUE_TOP_SHARE:
        return None
    return f"top {max(1, math.ceil(share * 100))}% by value"


def _value_points(profile: dict) -> list[TalkingPoint]:
    rank = value_rank(profile)
    if rank is None:
        return []
    return [TalkingPoint(f"{rank[0].upper()}{rank[1:]} (₺{profile['net_revenue_try']:,.0f} so far, "
                         f"{profile['orders']} orders)", "customer_summary", profile["customer_id"])]


def _rhythm_points(profile: dict, now: datetime) -> list[TalkingPoint]:
    usual, last = profile["usual_days_between_orders"], profile["last_purchase_at"]
    if usual is None or last is None or profile["orders"] < 3:
        return []
    quiet = (local_date(now) - local_date(last)).days
    if quiet <= 2 * max(usual, 7):
        return []
    return [TalkingPoint(f"Last bought {quiet} days ago; usually every {usual:.0f} days",
                         "customer_summary", profile["customer_id"])]


def _birthday_points(profile: dict, now: datetime) -> list[TalkingPoint]:
    born = profile["birth_date"]
    if born is None:
        return []
    today = local_date(now)
    for year in (today.year, today.year + 1):
        try:
            birthday = born.replace(year=year)
        except ValueError:  # 29 February in a common year
            birthday = born.replace(year=year, day=28)
        if 0 <= (birthday - today).days < 7:
            return [TalkingPoint(f"Birthday this week ({birthday:%d.%m}, turns {year - born.year})",
                                 "customers", profile["customer_id"])]
    return []


def tenure(signup: date | None, now: datetime) -> str:
    """How long the customer has been with us: days under two months, then months, then years."""
    if signup is None:
        return "tenure unknown"
    days = (local_date(now) - signup).days
    if days < 0:
        return "signs up later than today's data"
    if days < TENURE_IN_DAYS_UNDER:
        return "customer since today" if days == 0 else f"customer for {days} day{'s' if days != 1 else ''}"
    months = days * 12 // 365
    if months < 24:
        return f"customer for {months} month{'s' if months != 1 else ''}"
    return f"customer for {days // 365} years"


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def national_phone(e164: str | None) -> str:
    """`0532 123 45 67` for a Turkish number, as an agent reads it back; a foreign one as stored."""
    if not e164:
        return "—"
    if e164.startswith("+90") and len(e164) == 13:
        return f"0{e164[3:6]} {e164[6:9]} {e164[9:11]} {e164[11:]}"
    return e164


@dataclass(frozen=True)
class Identity:
    """What an agent checks the caller against: formatted for reading out."""
    phone: str
    email: str
    born: str
    city: str


def identity(profile: dict, now: datetime) -> Identity:
    born = profile.get("birth_date")
    born_text = f"{born:%d.%m.%Y} (age {age_on(born, local_date(now))})" if born else "birth date unknown"
    return Identity(national_phone(profile.get("phone")), profile.get("email") or "no e-mail",
                    born_text, profile.get("city") or "city unknown")


@dataclass(frozen=True)
class Alert:
    """One thing the agent must see on the call: how urgent (error > warning > info), what, and
    what it rests on; `opening` is a line the agent may open the call with."""
    level: str
    text: str
    source: str
    source_id: int
    opening: str = ""

    @property
    def cited(self) -> str:
        return source_in_words(self.source, self.source_id)


_LEVELS = {"error": 0, "warning": 1, "info": 2}


def complaint_level(promise_state: str, severity: str | None, age_hours: float) -> str:
    """The ladder for an unresolved complaint: past the 24-hour promise without an answer, high or
    critical severity, or open more than COMPLAINT_ERROR_DAYS: error; unanswered within the
    promise, or open more than COMPLAINT_WARNING_DAYS: warning; otherwise (answered, recent): info."""
    if promise_state == "breached" or severity in URGENT_SEVERITIES or age_hours > COMPLAINT_ERROR_DAYS * 24:
        return "error"
    if promise_state == "due" or age_hours > COMPLAINT_WARNING_DAYS * 24:
        return "warning"
    return "info"


def alerts(record: CustomerRecord, now: datetime) -> list[Alert]:
    """Open complaints on the ladder above, then the customer's latest bad word and recent returns
    (`recent_warnings`), the most urgent first, oldest first within a level."""
    found: list[Alert] = []
    for row in open_complaints(record, now).iter_rows(named=True):
        level = complaint_level(row["promise_state"], row["severity"], row["age_hours"])
        topic, when = _words(row["category"]), days_ago(row["opened_at"], now)
        age = _age(row["age_hours"])
        if row["promise_state"] == "breached":
            state = f"no answer after {age}: 24-hour promise BREACHED"
        elif row["promise_state"] == "due":
            state = f"no answer yet, due in {_age(max(row['hours_to_deadline'], 0))}"
        else:
            state = f"answered, not resolved; open for {age}"
        product = f", {row['product']}" if row.get("product") else ""
        found.append(Alert(
            level, f"Open complaint about {topic} ({row['severity'] or 'severity unknown'}{product}): {state}.",
            "complaints", row["complaint_id"],
            f"I see your {topic} complaint from {when} is still open; let me check where it stands "
            "for you."))
    for row in recent_warnings(record, now).iter_rows(named=True):
        when = days_ago(row["happened_at"], now)
        level, opening = {
            "detractor": ("warning", f"I see you weren't happy with us when we asked {when}; I'd like to put "
                                     "that right."),
            "bad_csat": ("warning", f"I see your last contact with us, {when}, didn't go well; I'm sorry "
                                    "about that."),
            "return": ("info", f"I see you returned an order {when}; was everything all right with the return?"),
        }[row["kind"]]
        found.append(Alert(level, f"{row['message']} ({when}).", row["source"], row["source_id"], opening))
    return sorted(found, key=lambda a: _LEVELS[a.level])


def opening_line(found: list[Alert]) -> str | None:
    """A suggested first sentence, from the most urgent alert."""
    return found[0].opening if found else None


def _age(hours: float) -> str:
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"


def latest_events(record: CustomerRecord, count: int = 5) -> pl.DataFrame:
    """The newest `count` events of the timeline: the call's context at a glance."""
    return timeline(record).head(count)


def purchase_totals(record: CustomerRecord) -> dict:
    """Orders and money by status; the purchases tab's headline."""
    orders = record.purchases
    def money(status: str) -> float:
        return float(orders.filter(pl.col("status") == status)["net_amount_try"].sum() or 0.0)
    counts = {status: orders.filter(pl.col("status") == status).height for status in config.PURCHASE_STATUSES}
    return {**counts, "net_revenue_try": money("completed"), "returned_try": money("returned")}


def monthly_spend(record: CustomerRecord) -> pl.DataFrame:
    """Net revenue of completed orders per month, for the spend-over-time chart."""
    return (record.purchases.filter(pl.col("status") == "completed")
            .group_by(pl.col("ordered_at").dt.truncate("1mo").dt.date().alias("month"))
            .agg(pl.col("net_amount_try").sum().alias("net_revenue_try"), pl.len().alias("orders")).sort("month"))


def complaint_history(record: CustomerRecord) -> pl.DataFrame:
    """Every complaint with its first-response and resolution times in hours."""
    def hours(column: str) -> pl.Expr:
        return ((pl.col(column) - pl.col("opened_at")).dt.total_minutes() / 60.0).round(1)
    return record.complaints.sort("opened_at", descending=True).select(
        "complaint_id", "opened_at", "channel", pl.col("category").str.replace_all("_", " "), "severity", "status",
        "product", hours("first_response_at").alias("response_hours"),
        hours("resolved_at").alias("resolution_hours"), "satisfaction_after", "resolution")


def contacts_by_channel(record: CustomerRecord) -> pl.DataFrame:
    """Per channel: how often, inbound and outbound, resolved at first contact, the last time."""
    return (record.interactions.group_by("channel").agg(
        pl.len().alias("contacts"),
        (pl.col("direction") == "inbound").sum().alias("inbound"),
        (pl.col("direction") == "outbound").sum().alias("outbound"),
        pl.col("resolved_on_first_contact").sum().alias("resolved_first_contact"),
        pl.col("started_at").max().alias("last_contact_at"),
    ).sort(["contacts", "channel"], descending=[True, False]))


def satisfaction_history(record: CustomerRecord) -> pl.DataFrame:
    """Every CSAT (1-5) and NPS (0-10) answer over time, for the satisfaction chart."""
    csat = record.interactions.filter(pl.col("csat").is_not_null()).select(
        pl.col("started_at").alias("answered_at"), pl.lit("CSAT (1-5)").alias("measure"),
        pl.col("csat").cast(pl.Int64).alias("score"))
    nps = record.surveys.select(pl.col("responded_at").alias("answered_at"), pl.lit("NPS (0-10)").alias("measure"),
                                pl.col("nps_score").cast(pl.Int64).alias("score"))
    return pl.concat([csat, nps]).sort("answered_at")
