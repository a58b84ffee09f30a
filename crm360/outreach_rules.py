"""Why a customer should hear from us: the outreach rules, written once here for the marts' SQL
(outreach_candidates) and for the page that explains them.

A service rule answers a matter the customer raised, so it may use the customer's own contact
details for that matter; a marketing rule may use only channels with recorded marketing consent.
Nobody who set do-not-contact appears in any list. Each rule carries the chance that contacting
the customer helps, used in the priority score (value at stake x chance it helps)."""
from __future__ import annotations

from dataclasses import dataclass

from crm360 import config

SERVICE, MARKETING = "service", "marketing"


@dataclass(frozen=True)
class Rule:
    code: str
    kind: str            # service | marketing
    reason: str          # what a user reads
    reads: str           # the data it reads
    chance_it_helps: float


RULES = (
    Rule("overdue_response", SERVICE,
         f"Open complaint with no answer after {config.RESPONSE_PROMISE_HOURS} hours: answer it now",
         "complaints", 0.6),
    Rule("stalled_complaint", SERVICE,
         f"Complaint answered but unresolved for over {config.STALLED_COMPLAINT_DAYS} days: move it on",
         "complaints", 0.5),
    Rule("post_resolution_followup", SERVICE,
         f"Complaint resolved in the last {config.FOLLOW_UP_WINDOW_DAYS} days: check the solution held",
         "complaints", 0.3),
    Rule("known_issue_fixed", SERVICE,
         "Complained about a product defect that has since been fixed: tell them",
         "complaints, product_issues", 0.5),
    Rule("detractor_recovery", MARKETING,
         f"NPS 0-6 or CSAT 1-2 in the last {config.DETRACTOR_WINDOW_DAYS} days: recover the relationship",
         "survey_responses, interactions", 0.4),
    Rule("high_value_at_risk", MARKETING,
         f"Top {config.HIGH_VALUE_TOP_SHARE:.0%} customer by value who is slipping away (chance of still buying "
         f"under {config.AT_RISK_P_ALIVE:.0%}, or quiet for over {config.QUIET_GAP_FACTOR:g}x their usual gap): "
         "win them back", "customer_summary (value, p_alive, purchase rhythm)", 0.2),
    Rule("champion_referral", MARKETING,
         "Champion who rates us 9-10: invite them to refer a friend", "customer_summary, survey_responses", 0.3),
    Rule("birthday", MARKETING,
         f"Birthday in the next {config.CELEBRATION_WINDOW_DAYS} days", "customers", 0.1),
    Rule("anniversary", MARKETING,
         f"Customer anniversary in the next {config.CELEBRATION_WINDOW_DAYS} days", "customers", 0.1),
    Rule("tier_upgrade_within_reach", MARKETING,
         f"Within {1 - config.TIER_UPGRADE_REACH:.0%} of the next loyalty tier: tell them how close they are",
         "customer_summary (trailing 12-month spend)", 0.2),
)
RULE_BY_CODE = {rule.code: rule for rule in RULES}


def rules_sql() -> str:
    """The rules as SQL VALUES rows (code, kind, reason, chance), for the marts."""
    def text(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"
    return ", ".join(f"({text(r.code)}, {text(r.kind)}, {text(r.reason)}, {r.chance_it_helps})" for r in RULES)


def next_tier_sql(spend: str) -> str:
    """The threshold of the next tier above a trailing spend (null at the top tier); the lowest
    tier, which any spend reaches, is nobody's next tier."""
    ascending = sorted(threshold for _, threshold in config.LOYALTY_TIERS)[1:]
    cases = " ".join(f"WHEN {spend} < {threshold} THEN {threshold}" for threshold in ascending)
    return f"CASE {cases} END"


def severity_stake_sql(severity: str) -> str:
    cases = " ".join(f"WHEN '{name}' THEN {stake}" for name, stake in config.COMPLAINT_STAKE_TRY.items())
    return f"CASE {severity} {cases} ELSE 0 END"
