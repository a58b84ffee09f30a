"""One customer's rows, fetched once per lookup, and everything the agent page derives from them.

A mid-call lookup needs a dozen views of the same few hundred rows (alerts, talking points, a
timeline page, the tabs). Asking DuckDB a dozen planned queries costs more than the data: each
complex query spends milliseconds in the planner. So the page fetches the customer's rows from
each table once, by an indexed equality on customer_id (see `crm360.queries.customer`), and the
functions here derive each view with polars on those rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from crm360 import config

ALERT_WINDOW_DAYS = 30  # "recent" for a bad answer or a return: what an agent should mention
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


_BAD_CSAT = [
    pl.col("started_at").alias("happened_at"), pl.lit("bad_csat").alias("kind"),
    pl.lit("interactions").alias("source"), pl.col("interaction_id").alias("source_id"),
    pl.format("Rated a contact by {} {}/5 ({})", pl.col("channel").str.replace_all("_", " "), "csat",
              pl.col("topic").fill_null("").str.replace_all("_", " ")).alias("message")]
_DETRACTOR = [
    pl.col("responded_at").alias("happened_at"), pl.lit("detractor").alias("kind"),
    pl.lit("survey_responses").alias("source"), pl.col("survey_id").alias("source_id"),
    pl.format("NPS {}/10 after {}", "nps_score", pl.col("touchpoint").str.replace_all("_", " ")).alias("message")]
_RETURN = [
    pl.col("ordered_at").alias("happened_at"), pl.lit("return").alias("kind"),
    pl.lit("purchases").alias("source"), pl.col("order_id").alias("source_id"),
    pl.format("Returned {} ({} TRY)", pl.coalesce("product", "category", pl.lit("an order")),
              pl.col("net_amount_try").round(2)).alias("message")]


_NO_WARNINGS = pl.DataFrame(schema={"happened_at": pl.Datetime("us"), "kind": pl.String, "source": pl.String,
                                    "source_id": pl.Int64, "message": pl.String})


def _any_recent_warning(record: CustomerRecord, since: datetime, until: datetime) -> bool:
    """The warnings' conditions as Series operations, which run straight on the columns (a frame
    filter plans a query, which costs more than the rows)."""
    def within(moments: pl.Series) -> pl.Series:
        return (moments > since) & (moments <= until)
    checks = ((record.interactions, lambda f: within(f["started_at"]) & (f["csat"] <= 2)),
              (record.surveys, lambda f: within(f["responded_at"]) & (f["nps_score"] <= 6)),
              (record.purchases, lambda f: within(f["ordered_at"]) & (f["status"] == "returned")))
    return any(frame.height and bool(condition(frame).any()) for frame, condition in checks)


def recent_warnings(record: CustomerRecord, now: datetime) -> pl.DataFrame:
    """Bad CSAT (1-2) or NPS detractor (0-6) answers and returns in the last 30 days, newest
    first, each with the table and id it came from."""
    since = now - timedelta(days=ALERT_WINDOW_DAYS)
    if not _any_recent_warning(record, since, now):
        return _NO_WARNINGS  # most customers: tested on the columns, without planning a query
    since, until = _moment(since), _moment(now)

    def recent(moment: str) -> pl.Expr:
        return (pl.col(moment) > since) & (pl.col(moment) <= until)

    bad_csat = record.interactions.lazy().filter(recent("started_at") & (pl.col("csat") <= 2)).select(_BAD_CSAT)
    detractors = record.surveys.lazy().filter(recent("responded_at") & (pl.col("nps_score") <= 6)).select(_DETRACTOR)
    returns = record.purchases.lazy().filter(recent("ordered_at") & (pl.col("status") == "returned")).select(_RETURN)
    return (pl.concat([bad_csat, detractors, returns], how="vertical_relaxed")
            .sort("happened_at", descending=True).collect())


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


@dataclass(frozen=True)
class TalkingPoint:
    text: str
    source: str       # the table the point comes from
    source_id: int    # the row in it, so an agent (or a test) can trace the point


def talking_points(record: CustomerRecord, now: datetime) -> list[TalkingPoint]:
    """Things worth saying on this call, each traceable to the rows behind it."""
    return (_complaint_points(record, now) + _fixed_defect_points(record) + _value_points(record.profile)
            + _rhythm_points(record.profile, now) + _birthday_points(record.profile, now))


def _days_ago(moment: datetime, now: datetime) -> str:
    days = (now - moment).days
    return "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"


_VERBS = {"phone": "Called", "email": "Wrote", "post": "Wrote", "in_person": "Came in", "social": "Posted",
          "web_chat": "Chatted", "sms": "Texted"}


def _complaint_points(record: CustomerRecord, now: datetime) -> list[TalkingPoint]:
    if record.complaints.is_empty():
        return []
    rows = record.complaints.filter(pl.col("status") != "resolved").sort("opened_at", descending=True)
    return [TalkingPoint(
        f"{_VERBS.get(r['channel'], 'Got in touch')} {_days_ago(r['opened_at'], now)} about "
        f"{r['category'].replace('_', ' ')}{' (' + r['product'] + ')' if r['product'] else ''}; "
        f"{'still open, not yet answered' if r['status'] == 'open' else 'answered, not resolved yet'}",
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


def _value_points(profile: dict) -> list[TalkingPoint]:
    share = profile["value_top_share"]
    if share is None or share > 0.2:
        return []
    band = "5%" if share <= 0.05 else "20%"
    return [TalkingPoint(f"Top {band} customer by value (₺{profile['net_revenue_try']:,.0f} so far, "
                         f"{profile['orders']} orders)", "customer_summary", profile["customer_id"])]


def _rhythm_points(profile: dict, now: datetime) -> list[TalkingPoint]:
    usual, last = profile["usual_days_between_orders"], profile["last_purchase_at"]
    if usual is None or last is None or profile["orders"] < 3:
        return []
    quiet = (now - last).days
    if quiet <= 2 * max(usual, 7):
        return []
    return [TalkingPoint(f"Last bought {quiet} days ago; usually every {usual:.0f} days",
                         "customer_summary", profile["customer_id"])]


def _birthday_points(profile: dict, now: datetime) -> list[TalkingPoint]:
    born = profile["birth_date"]
    if born is None:
        return []
    for year in (now.year, now.year + 1):
        try:
            birthday = born.replace(year=year)
        except ValueError:  # 29 February in a common year
            birthday = born.replace(year=year, day=28)
        if 0 <= (birthday - now.date()).days < 7:
            return [TalkingPoint(f"Birthday this week ({birthday:%d.%m}, turns {year - born.year})",
                                 "customers", profile["customer_id"])]
    return []


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
