"""Trends for executives: does the company keep its promises and keep its customers?

The period, grain and filters live in the URL, so a link reproduces the view. Only the open
section's charts are computed."""
import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm360 import charts, config, session, trend_view, ui
from crm360.glossary import GLOSSARY
from crm360.queries import trends
from crm360.queries.value import SEGMENT_ORDER
from crm360.trend_summary import summary_html

SECTIONS = ["Revenue", "Complaints", "Service times", "Cohorts", "Segments and tiers", "Channels", "Team"]
CHANNEL_NAMES = {c: c.replace("_", " ") for c in config.CHANNELS}


def _seed_widgets(view: trend_view.TrendView) -> None:
    """Widgets start from the URL the first time a session opens the page."""
    for key, value in (("trend-preset", view.preset), ("trend-dates", (view.filters.start, view.filters.end)),
                       ("trend-grain", view.grain), ("trend-cities", list(view.filters.cities)),
                       ("trend-channels", list(view.filters.channels)),
                       ("trend-segments", list(view.filters.segments)), ("trend-tiers", list(view.filters.tiers))):
        st.session_state.setdefault(key, value)


def _download(frame: pl.DataFrame, name: str, what: str = "the data") -> None:
    st.download_button(f"Download {what} (CSV)", session.export_file("trends", lambda: frame, what=name),
                       file_name=f"{name}.csv",
                       mime="text/csv", key=f"download-{name}", icon=":material/download:")


def _line(figure: go.Figure, x: list, y: list, name: str, dash: str | None = None) -> None:
    figure.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines+markers", line={"dash": dash} if dash else None))


def _layout(figure: go.Figure, title: str, height: int = 360) -> go.Figure:
    figure.update_layout(title=title, height=height, margin={"l": 10, "r": 10, "t": 50, "b": 10},
                         legend={"orientation": "h", "y": -0.15})
    return figure


def show_revenue(chosen: trends.TrendFilter, grain: str) -> None:
    series = trends.revenue_and_orders(db, chosen, grain)
    this, previous = series.filter(pl.col("year") == "this"), series.filter(pl.col("year") == "previous")
    left, right = st.columns(2)
    for column, measure, title in ((left, "net_revenue_try", "Net revenue (TRY)"), (right, "orders", "Orders")):
        figure = go.Figure()
        _line(figure, this["period"].to_list(), this[measure].to_list(), "this period")
        _line(figure, previous["period"].to_list(), previous[measure].to_list(), "a year earlier", "dot")
        column.plotly_chart(_layout(figure, f"{title} per {grain}, against a year earlier"), width="stretch")
    _download(series, "revenue-and-orders", "revenue and orders")
    st.caption("A year earlier: the same days one year before, moved forward to sit under this period "
               f"(weeks by 52 weeks, so weekdays line up). The first and last {grain} can be partial, in both "
               "lines alike. " + GLOSSARY["net_revenue"])


def show_complaints(chosen: trends.TrendFilter, grain: str) -> None:
    left, right = st.columns(2)
    for column, by, title in ((left, "category", "cause"), (right, "channel", "channel")):
        frame = trends.complaints_over_time(db, chosen, grain, by)
        figure = go.Figure()
        for key, rows in frame.with_columns(pl.col(by).str.replace_all("_", " ")).group_by(by, maintain_order=True):
            figure.add_trace(go.Bar(x=rows["period"].to_list(), y=rows["complaints"].to_list(), name=key[0]))
        figure.update_layout(barmode="stack")
        column.plotly_chart(_layout(figure, f"Complaints opened per {grain}, by {title}"), width="stretch")
    causes = trends.top_causes(db, chosen)
    st.markdown(f"**Top causes, this period against the previous {chosen.days} days**")
    st.dataframe(causes.with_columns(pl.col("category").str.replace_all("_", " "),
                                     (100 * pl.col("change") / pl.col("complaints_before")).alias("change_share")),
                 hide_index=True, width="stretch", column_config={
                     "category": "Cause", "complaints": st.column_config.NumberColumn("This period", format="%d"),
                     "complaints_before": st.column_config.NumberColumn("Previous period", format="%d"),
                     "change": st.column_config.NumberColumn("Change", format="%+d"),
                     "change_share": st.column_config.NumberColumn("Change (%)", format="%+.0f%%")})
    rising = causes.filter(pl.col("complaints_before") > 0).with_columns(
        (pl.col("change") / pl.col("complaints_before")).alias("growth")).sort("growth", descending=True)
    if rising.height and rising["growth"][0] > 0:
        st.caption(f"Rising fastest: {rising['category'][0].replace('_', ' ')} "
                   f"({rising['growth'][0]:+.0%} against the previous period).")
    _download(causes, "complaint-causes", "the causes")


def show_service_times(chosen: trends.TrendFilter, grain: str) -> None:
    distributions = trends.time_distributions(db, chosen)
    labels = {low: f"{low}-{high} h" for low, high in zip(trends.TIME_BINS, trends.TIME_BINS[1:], strict=False)}
    labels[trends.TIME_BINS[-1]] = f"{trends.TIME_BINS[-1]} h +"
    left, right = st.columns(2)
    for column, measure in ((left, "first response"), (right, "resolution")):
        rows = distributions.filter(pl.col("measure") == measure)
        figure = go.Figure(go.Bar(x=[labels[b] for b in rows["bin"]], y=rows["complaints"].to_list()))
        column.plotly_chart(_layout(figure, f"Complaints by {measure} time"), width="stretch")
    trend = trends.promise_trend(db, chosen, grain)
    figure = go.Figure()
    _line(figure, trend["period"].to_list(), trend["within_promise_share"].to_list(),
          f"answered within {config.RESPONSE_PROMISE_HOURS} h")
    figure.update_yaxes(tickformat=".0%", range=[0, 1])
    st.plotly_chart(_layout(figure, f"The {config.RESPONSE_PROMISE_HOURS}-hour promise per {grain}"),
                    width="stretch")
    st.caption(GLOSSARY["within_promise_share"])
    left, right = st.columns(2)
    with left:
        _download(distributions, "service-time-distributions", "the distributions")
    with right:
        _download(trend, "promise-trend", "the promise trend")


def show_cohorts(chosen: trends.TrendFilter) -> None:
    cohorts = trends.cohort_retention(db, chosen)
    if cohorts.is_empty():
        st.info("No customer placed a first order in this period.")
        return
    grid = cohorts.filter(pl.col("months_since") > 0).pivot(on="months_since", index="cohort",
                                                            values="share_buying", sort_columns=True)
    months = [c for c in grid.columns if c != "cohort"]
    figure = go.Figure(go.Heatmap(
        z=grid.select(months).to_numpy(), x=[f"month {m}" for m in months],
        y=[f"{d:%b %Y}" for d in grid["cohort"]], colorscale="Blues", zmin=0, texttemplate="%{z:.0%}",
        colorbar={"tickformat": ".0%"}, hovertemplate="%{y} customers, %{x} after: %{z:.0%} bought<extra></extra>"))
    figure.update_yaxes(autorange="reversed", type="category")
    figure.update_xaxes(type="category")
    st.plotly_chart(_layout(figure, "Share of each first-purchase month's customers buying again, by months since",
                            height=120 + 24 * grid.height), width="stretch")
    st.caption(GLOSSARY["cohort_retention"])
    _download(cohorts, "cohort-retention")


def show_groups(chosen: trends.TrendFilter) -> None:
    left, right = st.columns(2)
    for column, group, title in ((left, "rfm_segment", "segment"), (right, "loyalty_tier", "loyalty tier")):
        frame = trends.by_customer_group(db, chosen, group)
        figure = go.Figure(go.Bar(x=frame["net_revenue_try"].to_list(), y=frame["customer_group"].to_list(),
                                  orientation="h", customdata=frame["customers"].to_list(),
                                  hovertemplate="%{y}: ₺%{x:,.0f} from %{customdata:,} customers<extra></extra>"))
        figure.update_yaxes(autorange="reversed")
        column.plotly_chart(_layout(figure, f"Net revenue in the period by {title} (today's)"), width="stretch")
        column.dataframe(frame, hide_index=True, width="stretch", column_config={
            "customer_group": title.capitalize(),
            "net_revenue_try": st.column_config.NumberColumn("Net revenue (TRY)", format="%.0f"),
            "orders": st.column_config.NumberColumn("Orders", format="%d"),
            "customers": st.column_config.NumberColumn("Buying customers", format="%d")})
        with column:
            _download(frame, f"revenue-by-{group}", f"revenue by {title}")
    st.caption("Segments and tiers are each customer's as of the latest load.")
    movement = trends.segment_movement(db, chosen)
    if movement is None:
        st.info("Segment movement needs a month end before the period starts.")
        return
    start, end, flow = movement
    st.markdown(f"**How customers moved between segments, {start:%d.%m.%Y} to {end:%d.%m.%Y}**",
                help=GLOSSARY["segment_movement"])
    st.plotly_chart(charts.segment_sankey(flow, start, end, height=560), width="stretch")
    stayed = flow.filter(pl.col("from_segment") == pl.col("to_segment"))["customers"].sum()
    st.caption(f"{flow['customers'].sum():,} customers: {stayed:,} stayed in their segment, "
               f"{flow['customers'].sum() - stayed:,} moved. Any two dates: the Segments page.")
    _download(flow, "segment-movement", "the movement")


def show_channels(chosen: trends.TrendFilter, grain: str) -> None:
    mix = trends.channel_mix(db, chosen, grain)
    figure = go.Figure()
    for key, rows in mix.group_by("channel", maintain_order=True):
        figure.add_trace(go.Bar(x=rows["period"].to_list(), y=rows["share"].to_list(),
                                name=CHANNEL_NAMES.get(key[0], key[0]), customdata=rows["contacts"].to_list(),
                                hovertemplate="%{x}: %{y:.0%} (%{customdata:,} contacts)"))
    figure.update_layout(barmode="stack")
    figure.update_yaxes(tickformat=".0%")
    st.plotly_chart(_layout(figure, f"Channel mix of interactions per {grain}"), width="stretch")
    _download(mix, "channel-mix")


def show_team(chosen: trends.TrendFilter) -> None:
    agents = trends.agent_table(db, chosen)
    st.caption("Per agent in the period; the channel filter applies, city, segment and tier do not (agents "
               "serve every customer). Click a column to sort.")
    st.dataframe(agents, hide_index=True, width="stretch", column_config={
        "agent_id": "Agent", "team": "Team", "contacts": st.column_config.NumberColumn("Contacts", format="%d"),
        "first_contact_resolution": st.column_config.NumberColumn(
            "First-contact resolution", format="percent", help=GLOSSARY["first_contact_resolution"]),
        "csat": st.column_config.NumberColumn("CSAT", format="percent", help=GLOSSARY["csat"]),
        "csat_responses": st.column_config.NumberColumn("CSAT answers", format="%d"),
        "average_handle_minutes": st.column_config.NumberColumn("Average handle time (min)", format="%.1f",
                                                                help=GLOSSARY["average_handle_time"])})
    _download(agents, "team")


user = session.require("trends")
st.title("Trends")
db = ui.database()
now = ui.now_caption(db)
bounds = trends.data_range(db)
if bounds is None:
    st.info("The database has no dated activity yet.")
    st.stop()
first, last = bounds
options = {**trends.filter_options(db), "segments": SEGMENT_ORDER,
           "tiers": [name for name, _ in config.LOYALTY_TIERS] + [config.NO_TIER]}
_seed_widgets(trend_view.from_params({key: st.query_params.get_all(key) for key in st.query_params},
                                     bounds, options))

with st.container(border=True):
    period, dates, grain_column = st.columns([2, 2, 2])
    preset = period.selectbox("Period", list(trend_view.PRESETS), format_func=trend_view.PRESETS.get,
                              key="trend-preset", help="Periods end on the newest day in the data. The last "
                                                       "12 months are this month so far and the 11 before it, "
                                                       "so no month is cut.")
    if preset != trend_view.CUSTOM:
        st.session_state["trend-dates"] = trend_view.preset_period(preset, first, last)
    picked = dates.date_input("Days", min_value=first, max_value=last, format="DD.MM.YYYY", key="trend-dates",
                              disabled=preset != trend_view.CUSTOM)
    grain = grain_column.segmented_control("Per", trends.GRAINS, key="trend-grain",
                                           format_func=str.capitalize) or trend_view.DEFAULT_GRAIN
    city, channel, segment, tier = st.columns(4)
    cities = city.multiselect("City", options["cities"], key="trend-cities", placeholder="All cities")
    channels = channel.multiselect("Channel", options["channels"], key="trend-channels", placeholder="All channels",
                                   format_func=lambda c: CHANNEL_NAMES.get(c, c),
                                   help="The channel of a contact or complaint; orders and survey answers "
                                        "have none, so it leaves them as they are.")
    segments = segment.multiselect("Segment", options["segments"], key="trend-segments", placeholder="All segments")
    tiers = tier.multiselect("Loyalty tier", options["tiers"], key="trend-tiers", placeholder="All tiers")
if len(picked) != 2:
    st.info("Pick the period's last day too.")
    st.stop()
chosen = trends.TrendFilter(picked[0], picked[1], tuple(cities), tuple(channels), tuple(segments), tuple(tiers))
view = trend_view.TrendView(preset, grain, chosen)
st.query_params.from_dict(trend_view.to_params(view))

figures = trends.kpis(db, chosen)
before = chosen.previous()
st.caption(f"{chosen.start:%d.%m.%Y} to {chosen.end:%d.%m.%Y} ({chosen.days} days), against "
           f"{before.start:%d.%m.%Y} to {before.end:%d.%m.%Y}. {GLOSSARY['period_change']}")
for row_start in range(0, len(trend_view.TILES), 4):
    for column, tile in zip(st.columns(4), trend_view.TILES[row_start:row_start + 4], strict=False):
        value = figures[tile.kpi]
        delta = trend_view.change(value["now"], value["before"], tile.kind)
        column.metric(tile.label, trend_view.shown(value["now"], tile.kind), delta=delta,
                      delta_color="normal" if tile.up_is_good else "inverse", border=True,
                      help=f"{GLOSSARY[tile.definition]} Previous period: "
                           f"{trend_view.shown(value['before'], tile.kind)}.")
if not figures["orders"]["now"] and not figures["complaints_opened"]["now"]:
    st.info("No orders and no complaints in this period with these filters.")

st.download_button("Printable summary (HTML)",
                   session.exported_summary("trends", lambda stamp: summary_html(db, view, figures, stamp),
                                            what="printable summary", period=f"{chosen.start} to {chosen.end}"),
                   icon=":material/print:",
                   file_name=f"trends-{chosen.start}-{chosen.end}.html", mime="text/html",
                   help="One page with the tiles, the top complaint causes and revenue by segment, for the "
                        "current view; open it and print it or save it as PDF.")

tabs = st.tabs(SECTIONS, key="trend-section", on_change="rerun")
shows = {"Revenue": lambda: show_revenue(chosen, grain), "Complaints": lambda: show_complaints(chosen, grain),
         "Service times": lambda: show_service_times(chosen, grain), "Cohorts": lambda: show_cohorts(chosen),
         "Segments and tiers": lambda: show_groups(chosen), "Channels": lambda: show_channels(chosen, grain),
         "Team": lambda: show_team(chosen)}
for name, tab in zip(SECTIONS, tabs, strict=True):
    if tab.open:
        with tab:
            shows[name]()
