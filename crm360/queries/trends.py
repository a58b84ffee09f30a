"""Queries behind the trends page. They read the `trend_*` marts (etl/sql/marts/trend_facts.sql),
narrow day-sorted tables carrying every filter as a column, so a year of any view is one scan
and never a join of the fact tables. Ratios are formed after summing, never averaged.

Periods are whole days, both ends included. The previous period is the one of the same length
that ends the day before this one starts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from crm360 import config, segments
from crm360.store import Database, Snapshot

GRAINS = ("day", "week", "month")
# What the previous year's line is shifted by to sit under this year's: weeks by 52 so that
# weekdays line up, days and months by a calendar year.
_YEAR_SHIFT = {"day": "INTERVAL 1 YEAR", "week": "INTERVAL 364 DAY", "month": "INTERVAL 1 YEAR"}


@dataclass(frozen=True)
class TrendFilter:
    """The page's shared filters; an empty tuple means "all". City, segment and tier are the
    customer's, as of the latest load; the channel is the channel of a contact or complaint
    (orders and survey answers have none, so the channel filter leaves them as they are)."""

    start: date
    end: date
    cities: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> TrendFilter:
        """The period of the same length just before this one, with the same filters."""
        return TrendFilter(self.start - timedelta(days=self.days), self.start - timedelta(days=1), self.cities,
                           self.channels, self.segments, self.tiers)

    def where(self, *, customer_groups: bool = True, channel: bool = False,
              tier: str = "loyalty_tier") -> tuple[str, list]:
        """Conditions on the filters a table carries (the period is each query's own business)."""
        conditions, params = ["true"], []
        chosen = [("channel", self.channels)] if channel else []
        if customer_groups:
            chosen += [("city", self.cities), ("rfm_segment", self.segments), (tier, self.tiers)]
        for column, values in chosen:
            if values:
                conditions.append(f"{column} IN (SELECT unnest(?::VARCHAR[]))")
                params.append(list(values))
        return " AND ".join(conditions), params


def data_range(db: Database) -> tuple[date, date] | None:
    """The first and last day with any activity."""
    row = db.row("SELECT min(day), max(day) FROM kpi_daily")
    return None if row is None or row[0] is None else (row[0], row[1])


def filter_options(db: Database) -> dict[str, list[str]]:
    """The values each filter offers, read once per loaded version."""
    def load(snap: Snapshot) -> dict[str, list[str]]:
        def values(sql: str) -> list[str]:
            return [row[0] for row in snap.cursor.execute(sql).fetchall()]
        return {"cities": values("SELECT DISTINCT city FROM trend_orders WHERE city IS NOT NULL ORDER BY city"),
                "channels": values("SELECT DISTINCT channel FROM trend_contacts ORDER BY channel")}
    return db.memo("trend_filter_options", load)


# --- KPI tiles ---------------------------------------------------------------------------------

def kpis(db: Database, chosen: TrendFilter) -> dict[str, dict[str, float | None]]:
    """Every tile for the period and the previous period: {kpi: {"now": x, "before": y}}."""
    with db.snapshot() as snap:
        orders = _order_kpis(snap, chosen)
        values = {**orders, **_customer_kpis(snap, chosen, orders["new_customers"]),
                  **_complaint_kpis(snap, chosen), **_contact_kpis(snap, chosen), **_survey_kpis(snap, chosen)}
    return {name: {"now": now, "before": before} for name, (now, before) in values.items()}


def _periods(chosen: TrendFilter) -> list:
    before = chosen.previous()
    return [chosen.start, chosen.end, before.start, before.end]


def _both(snap: Snapshot, select: str, table: str, chosen: TrendFilter, day: str = "day",
          channel: bool = False) -> dict[str, tuple]:
    """Run `select` (with {period} standing for this period's condition, {before} for the
    previous one's) over the table; returns {column: (this period, previous)}."""
    numbered, params = _numbered(*chosen.where(channel=channel), first=5)
    this, before = f"{day} BETWEEN $1 AND $2", f"{day} BETWEEN $3 AND $4"
    both = select.format(period=this, before=before)
    snap.cursor.execute(f"SELECT {both} FROM {table} WHERE ({day} BETWEEN $3 AND $2) AND {numbered}",
                        _periods(chosen) + params)
    row = snap.cursor.fetchall()[0]
    names = [d[0] for d in snap.cursor.description]
    pairs = {}
    for name, value in zip(names, row, strict=True):
        kpi, _, which = name.rpartition("__")
        pairs.setdefault(kpi, [None, None])[0 if which == "now" else 1] = value
    return {kpi: tuple(pair) for kpi, pair in pairs.items()}


def _twice(expression: str, name: str) -> str:
    """The same aggregate for this period and the previous one."""
    return (f"{expression.format(when='{period}')} AS {name}__now, "
            f"{expression.format(when='{before}')} AS {name}__before")


def _order_kpis(snap: Snapshot, chosen: TrendFilter) -> dict[str, tuple]:
    return _both(snap, ", ".join([
        _twice("sum(net_revenue_try) FILTER (WHERE {when})", "net_revenue_try"),
        _twice("sum(orders) FILTER (WHERE {when})", "orders"),
        _twice("sum(net_revenue_try) FILTER (WHERE {when}) / nullif(sum(orders) FILTER (WHERE {when}), 0)",
               "average_order_value_try"),
        _twice("count(*) FILTER (WHERE {when} AND day = first_order_day)", "new_customers"),
    ]), "trend_orders", chosen)


def _customer_kpis(snap: Snapshot, chosen: TrendFilter, new: tuple) -> dict[str, tuple]:
    """Active customers and repeat purchases per period, and the customer base (bought in the
    trailing `ACTIVE_WINDOW_DAYS`) at three moments: before the previous period, between the
    two periods, at the end. Lost = in the base at the start and not at the end; retention rate
    = (base at the end - new customers) / base at the start.

    Counted without grouping by customer: each customer is in a range once, on their last
    order day in it (`next_order_day` after the range's end)."""
    window = config.ACTIVE_WINDOW_DAYS
    before = chosen.previous()
    moments = (before.start - timedelta(days=1), chosen.start - timedelta(days=1), chosen.end)
    if chosen.days > window:
        return _customer_kpis_grouped(snap, chosen, new)

    def last_in(first: date, last: date) -> str:
        return (f"(day BETWEEN DATE '{first}' AND DATE '{last}' "
                f"AND (next_order_day IS NULL OR next_order_day > DATE '{last}'))")

    def in_base(moment: date) -> str:
        return last_in(moment - timedelta(days=window - 1), moment)

    def lost_by(start: date, end: date) -> str:
        # In the base at `start`, and no order in the window ending at `end`: the last order by
        # `start` is older than that window and the next one (if any) is after `end`.
        return (f"({in_base(start)} AND day <= DATE '{end - timedelta(days=window)}' "
                f"AND (next_order_day IS NULL OR next_order_day > DATE '{end}'))")

    def repeat(period: TrendFilter) -> str:
        return (f"({last_in(period.start, period.end)} AND "
                f"(orders >= 2 OR previous_order_day >= DATE '{period.start}'))")

    # One count per figure, each with its own WHERE: the table is sorted by day, so each count
    # reads only the row groups of its own range (FILTER clauses on one scan read them all).
    figures = {"active": last_in(chosen.start, chosen.end), "active_before": last_in(before.start, before.end),
               "repeat": repeat(chosen), "repeat_before": repeat(before),
               "base_before": in_base(moments[0]), "base_start": in_base(moments[1]), "base_end": in_base(moments[2]),
               "lost_before": lost_by(moments[0], moments[1]), "lost": lost_by(moments[1], moments[2])}
    where, params = _numbered(*chosen.where())
    counts = dict(snap.cursor.execute(" UNION ALL ".join(
        f"SELECT '{name}', count(*) FROM trend_orders WHERE {condition} AND {where}"
        for name, condition in figures.items()), params).fetchall())
    return _customer_figures(tuple(counts[name] for name in figures), new)


def _numbered(where: str, params: list, first: int = 1) -> tuple[str, list]:
    """`?` placeholders as $1, $2, ... so one set of parameters serves several uses."""
    for index in range(len(params)):
        where = where.replace("?", f"${index + first}", 1)
    return where, params


def _customer_kpis_grouped(snap: Snapshot, chosen: TrendFilter, new: tuple) -> dict[str, tuple]:
    """The same figures for periods longer than the active window, where a customer's next order
    after the start can fall before the end's window: grouped by customer (slower, exact)."""
    window = config.ACTIVE_WINDOW_DAYS
    before = chosen.previous()
    moments = (before.start - timedelta(days=1), chosen.start - timedelta(days=1), chosen.end)

    def in_base(moment: date) -> str:
        return f"day BETWEEN DATE '{moment - timedelta(days=window - 1)}' AND DATE '{moment}'"

    where, params = chosen.where()
    snap.cursor.execute(
        f"""WITH per_customer AS (
                SELECT sum(orders) FILTER (WHERE day BETWEEN DATE '{chosen.start}' AND DATE '{chosen.end}') AS now,
                       sum(orders) FILTER (WHERE day BETWEEN DATE '{before.start}' AND DATE '{before.end}') AS before,
                       bool_or({in_base(moments[0])}) AS base_0, bool_or({in_base(moments[1])}) AS base_1,
                       bool_or({in_base(moments[2])}) AS base_2
                FROM trend_orders
                WHERE day BETWEEN DATE '{moments[0] - timedelta(days=window - 1)}' AND DATE '{chosen.end}'
                  AND {where}
                GROUP BY customer_id)
            SELECT count(now), count(before), count(*) FILTER (WHERE now >= 2), count(*) FILTER (WHERE before >= 2),
                   count(*) FILTER (WHERE base_0), count(*) FILTER (WHERE base_1), count(*) FILTER (WHERE base_2),
                   count(*) FILTER (WHERE base_0 AND NOT base_1), count(*) FILTER (WHERE base_1 AND NOT base_2)
            FROM per_customer""", params)
    return _customer_figures(snap.cursor.fetchall()[0], new)


def _customer_figures(counts: tuple, new: tuple) -> dict[str, tuple]:
    active, active_before, repeat, repeat_before, base_before, base_start, base_end, lost_before, lost = counts
    new_now, new_before = new
    return {
        "active_customers": (active, active_before),
        "lost_customers": (lost, lost_before),
        "retention_rate": (_ratio(base_end - (new_now or 0), base_start),
                           _ratio(base_start - (new_before or 0), base_before)),
        "repeat_purchase_rate": (_ratio(repeat, active), _ratio(repeat_before, active_before)),
    }


def _ratio(part: float | None, whole: float | None) -> float | None:
    return None if not whole or part is None else part / whole


def _complaint_kpis(snap: Snapshot, chosen: TrendFilter) -> dict[str, tuple]:
    opened = _both(snap, ", ".join([
        _twice("count(*) FILTER (WHERE {when})", "complaints_opened"),
        _twice("median(first_response_hours) FILTER (WHERE {when})", "median_first_response_hours"),
        _twice("count(*) FILTER (WHERE {when} AND answered_within_promise) / "
               "nullif(count(*) FILTER (WHERE {when} AND due), 0)", "within_promise_share"),
    ]), "trend_complaints", chosen, channel=True)
    resolved = _both(snap, _twice("count(*) FILTER (WHERE {when})", "complaints_resolved"), "trend_complaints",
                     chosen, day="resolved_day", channel=True)
    return {**opened, **resolved}


def _contact_kpis(snap: Snapshot, chosen: TrendFilter) -> dict[str, tuple]:
    return _both(snap, ", ".join([
        _twice("sum(resolved_first_contact) FILTER (WHERE {when}) / "
               "nullif(sum(inbound_with_outcome) FILTER (WHERE {when}), 0)", "first_contact_resolution"),
        _twice("sum(csat_satisfied) FILTER (WHERE {when}) / nullif(sum(csat_responses) FILTER (WHERE {when}), 0)",
               "csat"),
    ]), "trend_contacts", chosen, channel=True)


def _survey_kpis(snap: Snapshot, chosen: TrendFilter) -> dict[str, tuple]:
    return _both(snap, _twice(
        "100.0 * (sum(nps_promoters) FILTER (WHERE {when}) - sum(nps_detractors) FILTER (WHERE {when})) / "
        "nullif(sum(nps_responses) FILTER (WHERE {when}), 0)", "nps"), "trend_surveys", chosen)


# --- Charts --------------------------------------------------------------------------------------

def _bucket(grain: str, column: str = "day") -> str:
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {GRAINS}, not {grain!r}")
    return f"date_trunc('{grain}', {column})::DATE"


def revenue_and_orders(db: Database, chosen: TrendFilter, grain: str) -> pl.DataFrame:
    """Net revenue and orders per day, week or month of the period (`year` = "this"), and the
    same span a year earlier shifted forward to sit under it (`year` = "previous")."""
    where, params = _numbered(*chosen.where(), first=5)
    bucket, shift = _bucket(grain), _YEAR_SHIFT[grain]
    return db.frame(
        f"""SELECT 'this' AS year, {bucket} AS period, sum(net_revenue_try) AS net_revenue_try,
                   sum(orders)::BIGINT AS orders
            FROM trend_orders WHERE day BETWEEN $1 AND $2 AND {where} GROUP BY ALL
            UNION ALL
            SELECT 'previous', ({bucket} + {shift})::DATE, sum(net_revenue_try), sum(orders)::BIGINT
            FROM trend_orders WHERE day BETWEEN $3 AND $4 AND {where} GROUP BY ALL
            ORDER BY year DESC, period""",
        [chosen.start, chosen.end, _year_before(chosen.start), _year_before(chosen.end), *params])


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def complaints_over_time(db: Database, chosen: TrendFilter, grain: str, by: str) -> pl.DataFrame:
    """Complaints opened per period, by cause (`by="category"`) or by channel."""
    if by not in ("category", "channel"):
        raise ValueError(f"complaints are split by category or channel, not {by!r}")
    where, params = chosen.where(channel=True)
    return db.frame(
        f"""SELECT {_bucket(grain)} AS period, {by}, count(*) AS complaints
            FROM trend_complaints WHERE day BETWEEN ? AND ? AND {where}
            GROUP BY ALL ORDER BY period, {by}""", [chosen.start, chosen.end, *params])


def top_causes(db: Database, chosen: TrendFilter) -> pl.DataFrame:
    """Complaints per cause in this period and the previous one, biggest first, with the change."""
    before = chosen.previous()
    where, params = _numbered(*chosen.where(channel=True), first=5)
    return db.frame(
        f"""SELECT category, count(*) FILTER (WHERE day >= $1) AS complaints,
                   count(*) FILTER (WHERE day <= $4) AS complaints_before,
                   count(*) FILTER (WHERE day >= $1) - count(*) FILTER (WHERE day <= $4) AS change
            FROM trend_complaints WHERE day BETWEEN $3 AND $2 AND {where}
            GROUP BY category ORDER BY complaints DESC, category""",
        [chosen.start, chosen.end, before.start, before.end, *params])


# Hours, as the distribution charts' bins: fine where most answers fall, coarse in the tail.
TIME_BINS = (0, 1, 2, 4, 8, 12, 24, 48, 72, 168)


def time_distributions(db: Database, chosen: TrendFilter) -> pl.DataFrame:
    """Complaints opened in the period by first-response time and by resolution time, in the
    `TIME_BINS` hours (`bin` is the lower bound; the last bin is open-ended)."""
    where, params = _numbered(*chosen.where(channel=True), first=3)
    bins = "[" + ", ".join(str(b) for b in TIME_BINS) + "]"
    binned = "list_last(list_filter({bins}, lambda b: b <= {hours}))"
    return db.frame(
        f"""SELECT measure, bin, count(*) AS complaints FROM (
                SELECT 'first response' AS measure, {binned.format(bins=bins, hours='first_response_hours')} AS bin
                FROM trend_complaints WHERE day BETWEEN $1 AND $2 AND first_response_hours IS NOT NULL AND {where}
                UNION ALL
                SELECT 'resolution', {binned.format(bins=bins, hours='resolution_hours')}
                FROM trend_complaints WHERE day BETWEEN $1 AND $2 AND resolution_hours IS NOT NULL AND {where})
            GROUP BY ALL ORDER BY measure, bin""", [chosen.start, chosen.end, *params])


def promise_trend(db: Database, chosen: TrendFilter, grain: str) -> pl.DataFrame:
    """Per period: the share answered within the promise (of complaints due), the median first
    response and resolution times."""
    where, params = chosen.where(channel=True)
    return db.frame(
        f"""SELECT {_bucket(grain)} AS period,
                   count(*) FILTER (WHERE answered_within_promise) / nullif(count(*) FILTER (WHERE due), 0)
                       AS within_promise_share,
                   median(first_response_hours) AS median_first_response_hours,
                   median(resolution_hours) AS median_resolution_hours, count(*) AS complaints
            FROM trend_complaints WHERE day BETWEEN ? AND ? AND {where}
            GROUP BY ALL ORDER BY period""", [chosen.start, chosen.end, *params])


def cohort_retention(db: Database, chosen: TrendFilter) -> pl.DataFrame:
    """Customers whose first order fell in each month of the period, and the share of them who
    bought again in each later month up to the period's end (month 0 is the first month: 100%).
    A customer counts once per month, on their last order day in it."""
    where, params = _numbered(*chosen.where(), first=3)
    return db.frame(
        f"""WITH active AS (
                SELECT date_trunc('month', first_order_day)::DATE AS cohort,
                       date_diff('month', date_trunc('month', first_order_day), date_trunc('month', day))
                           AS months_since,
                       count(*) AS customers
                FROM trend_orders
                WHERE first_order_day BETWEEN $1 AND $2 AND day <= $2 AND {where}
                  AND (next_order_day IS NULL
                       OR date_trunc('month', next_order_day) > date_trunc('month', day))
                GROUP BY ALL)
            SELECT cohort, months_since, customers,
                   customers / first_value(customers) OVER (PARTITION BY cohort ORDER BY months_since)
                       AS share_buying
            FROM active ORDER BY cohort, months_since""", [chosen.start, chosen.end, *params])


def by_customer_group(db: Database, chosen: TrendFilter, group: str) -> pl.DataFrame:
    """Net revenue, orders and buying customers in the period per RFM segment or loyalty tier."""
    if group not in ("rfm_segment", "loyalty_tier"):
        raise ValueError(f"customers are grouped by rfm_segment or loyalty_tier, not {group!r}")
    where, params = _numbered(*chosen.where(), first=3)
    return db.frame(
        f"""SELECT {group} AS customer_group, sum(net_revenue_try) AS net_revenue_try, sum(orders)::BIGINT AS orders,
                   count(*) FILTER (WHERE next_order_day IS NULL OR next_order_day > $2) AS customers
            FROM trend_orders WHERE day BETWEEN $1 AND $2 AND {where}
            GROUP BY ALL ORDER BY net_revenue_try DESC""", [chosen.start, chosen.end, *params])


def channel_mix(db: Database, chosen: TrendFilter, grain: str) -> pl.DataFrame:
    """Interactions per period and channel, with each channel's share of the period."""
    where, params = chosen.where(channel=True)
    return db.frame(
        f"""SELECT period, channel, contacts, contacts / sum(contacts) OVER (PARTITION BY period) AS share
            FROM (SELECT {_bucket(grain)} AS period, channel, sum(contacts)::BIGINT AS contacts
                  FROM trend_contacts WHERE day BETWEEN ? AND ? AND {where} GROUP BY ALL)
            ORDER BY period, channel""", [chosen.start, chosen.end, *params])


def agent_table(db: Database, chosen: TrendFilter) -> pl.DataFrame:
    """Per agent in the period: contacts handled, first-contact resolution, CSAT, average handle
    time. Agents serve every customer group, so only the period and the channel filter apply."""
    where, params = chosen.where(customer_groups=False, channel=True)
    return db.frame(
        f"""SELECT agent_id, team, sum(contacts)::BIGINT AS contacts,
                   sum(resolved_first_contact) / nullif(sum(inbound_with_outcome), 0) AS first_contact_resolution,
                   sum(csat_satisfied) / nullif(sum(csat_responses), 0) AS csat,
                   sum(csat_responses)::BIGINT AS csat_responses,
                   sum(handle_seconds) / nullif(sum(timed_contacts), 0) / 60.0 AS average_handle_minutes
            FROM trend_agents WHERE day BETWEEN ? AND ? AND {where}
            GROUP BY ALL ORDER BY contacts DESC, agent_id""", [chosen.start, chosen.end, *params])


def segment_movement(db: Database, chosen: TrendFilter) -> tuple[date, date, pl.DataFrame] | None:
    """How customers moved between RFM segments over the period: from the last `segment_history`
    day before it starts to the last one by its end (month ends, and the newest day in the data).
    Customers signed up by the end day; no completed order by a day means 'Prospects' on it.
    The city and tier filters apply (today's tier); the segment filter would only cut the flow."""
    days = db.memo("segment_history_days", lambda snap: [row[0] for row in snap.cursor.execute(
        "SELECT DISTINCT as_of_day FROM segment_history ORDER BY as_of_day").fetchall()])
    before = [day for day in days if day < chosen.start]
    by_end = [day for day in days if day <= chosen.end]
    if not before or not by_end:
        return None
    start, end = before[-1], by_end[-1]
    groups = TrendFilter(chosen.start, chosen.end, cities=chosen.cities, tiers=chosen.tiers)
    # customer_summary leaves a customer without a tier empty; the trend marts call it NO_TIER.
    where, params = _numbered(*groups.where(tier=f"coalesce(loyalty_tier, '{config.NO_TIER}')"), first=4)
    # Buyers come from the two days' slices alone (a full join, no scan of every customer); the
    # customers table is read once, for those who had bought on neither day.
    chosen_only = f"AND customer_id IN (SELECT customer_id FROM customer_summary WHERE {where})" if params else ""
    flow = db.frame(
        f"""WITH a AS (SELECT customer_id, rfm_segment FROM segment_history WHERE as_of_day = $2 {chosen_only}),
                 b AS (SELECT customer_id, rfm_segment FROM segment_history WHERE as_of_day = $3 {chosen_only}),
                 buyers AS (SELECT coalesce(a.rfm_segment, $1) AS from_segment,
                                   coalesce(b.rfm_segment, $1) AS to_segment
                            FROM a FULL JOIN b USING (customer_id))
            SELECT from_segment, to_segment, count(*) AS customers FROM buyers GROUP BY ALL
            UNION ALL
            SELECT $1, $1, (SELECT count(*) FROM customer_summary WHERE signup_date <= $3 AND {where})
                           - (SELECT count(*) FROM buyers)
            ORDER BY customers DESC""", [segments.PROSPECTS, start, end, *params])
    return start, end, flow
