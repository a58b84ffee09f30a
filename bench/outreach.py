"""`python -m bench.outreach DB [N]`: the outreach page's answer to a filter change on a published
database, N random filter combinations (default 60), with a campaign store holding 5,000
customers contacted in the last week (so the contact-pressure hold is in every query).

Timed twice per combination: the page's queries alone (`filter_answer`, the function it calls), and the
whole page run server-side by Streamlit's AppTest (script, queries, chart and table encoding:
everything the server does before the browser draws). Also the mart's own time from the ETL run,
and the full list written as CSV and as Excel. Prints JSON."""
from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bench.timing import millisecond_stats
from crm360 import clock, config, export, outreach_rules, segments
from crm360.campaigns import CampaignStore, NewCampaign
from crm360.queries import outreach
from crm360.queries.value import SEGMENT_ORDER
from crm360.store import Database

ROOT = Path(__file__).resolve().parent.parent
HELD_BACK = 5_000


def random_filters(draw: random.Random, cities: list[str]) -> outreach.CandidateFilter:
    """One to three filters set at once, as a user narrows a list."""
    def some(options: list[str]) -> tuple[str, ...]:
        return tuple(draw.sample(options, draw.randint(1, min(3, len(options)))))
    choices = {
        "rules": lambda: some([r.code for r in outreach_rules.RULES]), "segments": lambda: some(SEGMENT_ORDER),
        "tiers": lambda: some([name for name, _ in config.LOYALTY_TIERS]), "cities": lambda: some(cities),
        "channels": lambda: some(["phone", "email", "sms"]),
        "churn_bands": lambda: some(list(segments.CHURN_BAND_ORDER)),
        "min_value_try": lambda: float(draw.choice([500, 1_000, 5_000, 20_000])),
    }
    picked = draw.sample(sorted(choices), draw.randint(1, 3))
    return outreach.CandidateFilter(**{name: choices[name]() for name in picked})


def _set_widgets(app, chosen: outreach.CandidateFilter) -> None:
    """The page's filter widgets, in the order the page creates them."""
    reason, segment, tier, city, channel, churn = app.multiselect[:6]
    for widget, values in ((reason, chosen.rules), (segment, chosen.segments), (tier, chosen.tiers),
                           (city, chosen.cities), (channel, chosen.channels), (churn, chosen.churn_bands)):
        widget.set_value(list(values))
    app.number_input[0].set_value(chosen.min_value_try)


def _seconds(work) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def run(db_path: Path, count: int, seed: int = 3) -> dict:
    from streamlit.testing.v1 import AppTest

    db = Database(db_path)
    now = clock.now(db)
    draw = random.Random(seed)
    with tempfile.TemporaryDirectory() as scratch:
        store = CampaignStore(Path(scratch) / "campaigns.sqlite")
        listed = outreach.candidates(db, outreach.CandidateFilter(), limit=None)["customer_id"].to_list()
        contacted = draw.sample(listed, min(HELD_BACK, len(listed) // 20))
        campaign_id = store.create(NewCampaign("Bench", "bench", "phone", now.date(), control_share=0),
                                   [(c, "") for c in contacted], when=now - timedelta(days=10))
        store.mark_contacted_many(campaign_id, contacted, "reached", now - timedelta(days=7))
        held_back = store.held_back(now)
        cities = outreach.candidate_cities(db)
        combinations = [replace(random_filters(draw, cities), held_back=held_back) for _ in range(count)]

        query_ms = [_seconds(lambda chosen=chosen: outreach.filter_answer(db, chosen))[0] * 1000
                    for chosen in combinations]

        # Local mode: the bench times the page's answer, not a sign-in; every filter change still
        # writes its audit entry, as a signed-in user's would.
        os.environ.update({"CRM_DB": str(db_path), "CRM_CAMPAIGNS": str(store.path), "CRM_AUTH": "none",
                           "CRM_AUDIT": str(Path(scratch) / "audit.sqlite"), **config.APP_ENVIRONMENT})
        app = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
        app.run()
        app.switch_page("pages/outreach.py").run()
        page_ms = []
        for chosen in combinations:
            _set_widgets(app, chosen)
            page_ms.append(_seconds(app.run)[0] * 1000)
            if app.exception:
                raise RuntimeError(app.exception[0].message)

        read_seconds, full = _seconds(lambda: outreach.candidates(db, outreach.CandidateFilter(held_back=held_back),
                                                                  limit=None))
        csv_seconds, _ = _seconds(lambda: export.to_csv(full))
        excel_seconds, _ = _seconds(lambda: export.to_xlsx(full))
    mart = db.row("""SELECT seconds FROM etl_run_stages WHERE stage = 'mart:outreach_candidates'
                     AND run_id = (SELECT run_id FROM dataset_info)""")
    candidates, service, marketing = db.row(
        "SELECT count(*), count(*) FILTER (WHERE service), count(*) FILTER (WHERE marketing) FROM outreach_candidates")
    return {"customers": db.row("SELECT count(*) FROM customers")[0], "candidates": candidates,
            "service": service, "marketing": marketing, "mart_seconds": mart and mart[0],
            "held_back": len(held_back), "filter_changes": count,
            "queries": millisecond_stats(query_ms), "page": millisecond_stats(page_ms),
            "export_rows": full.height, "read_full_list_seconds": read_seconds,
            "csv_seconds": csv_seconds, "excel_seconds": excel_seconds}


if __name__ == "__main__":
    print(json.dumps(run(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 60)))
