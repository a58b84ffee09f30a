"""The trends page's printable one-page summary: the tiles, the top complaint causes and revenue
by segment for the view on screen, as a self-contained HTML file (print it or save it as PDF)."""
from __future__ import annotations

from html import escape

from crm360 import trend_view
from crm360.glossary import GLOSSARY
from crm360.numbers import money
from crm360.queries import trends
from crm360.store import Database

STYLE = """
body { font-family: 'Source Sans Pro', Arial, sans-serif; color: #262730; margin: 24px; font-size: 12px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 14px; margin: 16px 0 6px; }
p.meta { color: #555; margin: 0 0 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 6px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.columns { display: flex; gap: 24px; } .columns > div { flex: 1; }
footer { color: #777; font-size: 10px; margin-top: 16px; }
@page { size: A4; margin: 12mm; }
"""


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _filters_text(chosen: trends.TrendFilter) -> str:
    parts = [f"{label}: {', '.join(values)}" for label, values in (
        ("cities", chosen.cities), ("channels", chosen.channels), ("segments", chosen.segments),
        ("tiers", chosen.tiers)) if values]
    return "; ".join(parts) or "all customers and channels"


def summary_html(db: Database, view: trend_view.TrendView, figures: dict,
                 stamp: tuple[str, str] | None = None) -> bytes:
    """The printable one-page summary; `stamp` (who exported it, when) is printed in its footer."""
    chosen = view.filters
    before = chosen.previous()
    tiles = [[tile.label, trend_view.shown(figures[tile.kpi]["now"], tile.kind),
              trend_view.shown(figures[tile.kpi]["before"], tile.kind),
              trend_view.change(figures[tile.kpi]["now"], figures[tile.kpi]["before"], tile.kind) or "—"]
             for tile in trend_view.TILES]
    causes = trends.top_causes(db, chosen).head(8)
    groups = trends.by_customer_group(db, chosen, "rfm_segment")
    cause_rows = [[c.replace("_", " "), f"{n:,}", f"{b:,}", f"{d:+,}"] for c, n, b, d in causes.iter_rows()]
    group_rows = [[g, money(r), f"{c:,}"] for g, r, _, c in groups.select(
        "customer_group", "net_revenue_try", "orders", "customers").iter_rows()]
    html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Trends {chosen.start} to {chosen.end}</title><style>{STYLE}</style></head><body>
<h1>Trends: {chosen.start:%d.%m.%Y} to {chosen.end:%d.%m.%Y}</h1>
<p class="meta">{chosen.days} days against {before.start:%d.%m.%Y} to {before.end:%d.%m.%Y};
{escape(_filters_text(chosen))}.</p>
<h2>Key figures</h2>{_table(["", "This period", "Previous period", "Change"], tiles)}
<div class="columns"><div><h2>Top complaint causes</h2>
{_table(["Cause", "This period", "Previous", "Change"], cause_rows)}</div>
<div><h2>Net revenue by segment</h2>{_table(["Segment", "Net revenue", "Buying customers"], group_rows)}</div></div>
<footer>{escape(GLOSSARY["period_change"])} Definitions of every figure: the app's Overview page.
{f"<br>Exported by {escape(stamp[0])} at {escape(stamp[1])}." if stamp else ""}</footer>
</body></html>"""
    return html.encode("utf-8")

