"""Loyalty segments: the recency-by-frequency map, the loyalty tiers and churn bands, written once
here for the marts' SQL and for the pages that explain them."""
from __future__ import annotations

from dataclasses import dataclass

from crm360 import config

PROSPECTS = "Prospects"


@dataclass(frozen=True)
class Segment:
    name: str
    recency_scores: str    # the R scores (1-5) of the cells, as digits
    frequency_scores: str  # the F scores (1-5)
    rule: str              # what a marketer reads
    action: str


# The widely used R x F map (R and F scored 1-5 by quintiles, 5 = most recent / most frequent),
# covering all 25 cells.
RFM_SEGMENTS = (
    Segment("Champions", "5", "45", "R 5, F 4-5: bought very recently and buy often",
            "Reward them; early access, referrals"),
    Segment("Loyal", "34", "45", "R 3-4, F 4-5: buy often, not in the last weeks",
            "Upsell; ask for reviews"),
    Segment("Potential Loyalist", "45", "23", "R 4-5, F 2-3: recent, a few purchases",
            "Membership or loyalty offer"),
    Segment("New Customers", "5", "1", "R 5, F 1: first purchase just now",
            "Onboarding; a good first delivery"),
    Segment("Promising", "4", "1", "R 4, F 1: one recent purchase",
            "Build the relationship; a second-purchase offer"),
    Segment("Need Attention", "3", "3", "R 3, F 3: average on both",
            "Limited-time offer based on past purchases"),
    Segment("About to Sleep", "3", "12", "R 3, F 1-2: fading, few purchases",
            "Reactivate with popular products"),
    Segment("At Risk", "12", "34", "R 1-2, F 3-4: bought often, long ago",
            "Personal win-back message"),
    Segment("Cannot Lose Them", "12", "5", "R 1-2, F 5: the most frequent buyers, gone quiet",
            "Call them; find out what went wrong"),
    Segment("Hibernating", "12", "12", "R 1-2, F 1-2: few purchases, long ago",
            "Only low-cost reminders"),
)


def segment_cells() -> list[tuple[int, int, str]]:
    """(R score, F score, segment) for every one of the 25 cells."""
    return [(int(r), int(f), s.name) for s in RFM_SEGMENTS for r in s.recency_scores for f in s.frequency_scores]


def segment_map_sql() -> str:
    """The map as SQL VALUES rows, for the marts."""
    return ", ".join(f"({r}, {f}, '{name}')" for r, f, name in segment_cells())


def _first_band_reached(value: str, bands: tuple[tuple[str, float], ...]) -> str:
    """A CASE expression naming the first of `bands` (name, lower bound; highest first) that `value` reaches."""
    cases = " ".join(f"WHEN {value} >= {bound} THEN '{name}'" for name, bound in bands)
    return f"CASE {cases} END"


def loyalty_tier_sql(spend: str) -> str:
    """The tier of a trailing-12-month spend."""
    return _first_band_reached(spend, config.LOYALTY_TIERS)


def churn_band_sql(risk: str) -> str:
    return _first_band_reached(risk, config.CHURN_RISK_BANDS)


CHURN_BAND_ORDER = tuple(name for name, _ in reversed(config.CHURN_RISK_BANDS))  # low, medium, high
