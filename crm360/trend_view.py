"""The trends page's view (period, grain and filters) and its place in the URL, so that a link
reproduces what an executive was looking at.

URL: `?period=last_12_months&grain=week&city=İstanbul&city=Ankara&channel=phone&segment=…&tier=…`,
or `?start=2026-01-01&end=2026-03-31` for a custom period. Values the data does not know are
dropped, a broken date falls back to the default period; a bad link never breaks the page.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from crm360.numbers import money
from crm360.queries.trends import GRAINS, TrendFilter

CUSTOM = "custom"
PRESETS = {
    "last_7_days": "Last 7 days",
    "last_30_days": "Last 30 days",
    "last_90_days": "Last 90 days",
    "last_12_months": "Last 12 months",
    "year_to_date": "Year to date",
    "previous_year": "Previous calendar year",
    CUSTOM: "Custom",
}
DEFAULT_PRESET = "last_12_months"
DEFAULT_GRAIN = "month"
FILTER_KEYS = {"city": "cities", "channel": "channels", "segment": "segments", "tier": "tiers"}


@dataclass(frozen=True)
class TrendView:
    preset: str
    grain: str
    filters: TrendFilter


def preset_period(preset: str, first: date, last: date) -> tuple[date, date]:
    """The days a preset covers, ending at the newest day in the data and clipped to the data.
    The last 12 months start on a month's first day, so no monthly bar is a stray few days."""
    if preset == "last_12_months":
        month = last.month - 11
        start, end = date(last.year + (month - 1) // 12, (month - 1) % 12 + 1, 1), last
    elif preset == "year_to_date":
        start, end = last.replace(month=1, day=1), last
    elif preset == "previous_year":
        start, end = date(last.year - 1, 1, 1), date(last.year - 1, 12, 31)
    else:
        days = {"last_7_days": 7, "last_30_days": 30, "last_90_days": 90}.get(preset, 30)
        start, end = last - timedelta(days=days - 1), last
    return max(start, first), max(min(end, last), first)


def from_params(params: Mapping[str, Sequence[str]], bounds: tuple[date, date],
                options: Mapping[str, Sequence[str]]) -> TrendView:
    """The view a URL asks for. `params` maps each key to all its values; `options` lists the
    values each filter may take (unknown ones are dropped)."""
    first, last = bounds

    def one(key: str) -> str | None:
        values = params.get(key) or []
        return values[-1] if values else None

    preset = one("period") if one("period") in PRESETS else DEFAULT_PRESET
    start, end = preset_period(preset, first, last)
    if one("start") or one("end"):
        try:
            start = max(date.fromisoformat(one("start") or str(start)), first)
            end = min(date.fromisoformat(one("end") or str(end)), last)
            preset = CUSTOM
        except ValueError:
            pass
    if start > end:
        start, end = preset_period(DEFAULT_PRESET, first, last)
        preset = DEFAULT_PRESET
    grain = one("grain") if one("grain") in GRAINS else DEFAULT_GRAIN
    chosen = {field: tuple(v for v in dict.fromkeys(params.get(key) or []) if v in options.get(field, ()))
              for key, field in FILTER_KEYS.items()}
    return TrendView(preset, grain, TrendFilter(start, end, **chosen))


def to_params(view: TrendView) -> dict[str, str | list[str]]:
    """The URL of a view: a preset by name (so the link moves with the data), a custom period by
    its dates; filters only when set."""
    params: dict[str, str | list[str]] = {"grain": view.grain}
    if view.preset == CUSTOM:
        params.update(start=view.filters.start.isoformat(), end=view.filters.end.isoformat())
    else:
        params["period"] = view.preset
    for key, field in FILTER_KEYS.items():
        values = getattr(view.filters, field)
        if values:
            params[key] = list(values)
    return params


@dataclass(frozen=True)
class Tile:
    kpi: str          # the key in trends.kpis()
    label: str
    kind: str         # "count", "money", "share", "hours" or "score": how it is shown and compared
    up_is_good: bool
    definition: str   # the glossary entry


TILES = (
    Tile("net_revenue_try", "Net revenue", "money", True, "net_revenue"),
    Tile("orders", "Orders", "count", True, "orders"),
    Tile("average_order_value_try", "Average order value", "money", True, "average_order_value"),
    Tile("active_customers", "Active customers", "count", True, "active_customers"),
    Tile("new_customers", "New customers", "count", True, "new_customers"),
    Tile("lost_customers", "Lost customers", "count", False, "lost_customers"),
    Tile("retention_rate", "Retention rate", "share", True, "retention_rate"),
    Tile("repeat_purchase_rate", "Repeat-purchase rate", "share", True, "repeat_purchase_rate"),
    Tile("complaints_opened", "Complaints opened", "count", False, "complaints_opened"),
    Tile("complaints_resolved", "Complaints resolved", "count", True, "complaints_resolved"),
    Tile("median_first_response_hours", "Median first response", "hours", False, "median_first_response"),
    Tile("within_promise_share", "Answered within 24 h", "share", True, "within_promise_share"),
    Tile("first_contact_resolution", "First-contact resolution", "share", True, "first_contact_resolution"),
    Tile("csat", "CSAT", "share", True, "csat"),
    Tile("nps", "NPS", "score", True, "nps"),
)


def shown(value: float | None, kind: str) -> str:
    """A tile's value as the page prints it."""
    if value is None:
        return "—"
    if kind == "money":
        return money(value)
    if kind == "share":
        return f"{value:.1%}"
    if kind == "hours":
        return f"{value:.1f} h"
    if kind == "score":
        return f"{value:+.0f}"
    return f"{value:,.0f}"


def change(now: float | None, before: float | None, kind: str) -> str | None:
    """The change against the previous period: counts, money and hours in percent, shares in
    percentage points, scores in points; None when either side is missing (or was zero)."""
    if now is None or before is None:
        return None
    if kind == "share":
        return f"{(now - before) * 100:+.1f} pts"
    if kind == "score":
        return f"{now - before:+.1f} points"
    if before == 0:
        return None
    return f"{(now - before) / abs(before):+.1%}"
