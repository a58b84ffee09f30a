"""Trends for executives: revenue and the service promise, month by month."""
from datetime import timedelta

import plotly.express as px
import polars as pl
import streamlit as st

from crm360 import ui
from crm360.glossary import GLOSSARY
from crm360.queries import trends

st.title("Trends")
db = ui.database()
now = ui.now_caption(db)
bounds = trends.data_range(db)
if bounds is None:
    st.info("The database has no dated activity yet.")
    st.stop()

first, last = bounds
# Default: the current month to date and the eleven whole months before it, so no bar is a
# stray few days at the start of the period.
default_start = max(first, (last.replace(day=1) - timedelta(days=320)).replace(day=1))
period = st.date_input("Period", value=(default_start, last), min_value=first, max_value=last,
                       format="DD.MM.YYYY")
if len(period) != 2:
    st.info("Pick the period's last day too.")
    st.stop()
start, end = period

totals = trends.period_totals(db, start, end)
cols = st.columns(5)
cols[0].metric("Net revenue", ui.money(totals["net_revenue_try"]), help=GLOSSARY["net_revenue"])
cols[1].metric("Orders", f"{totals['orders'] or 0:,}", help=GLOSSARY["orders"])
cols[2].metric("Answered within 24 h", ui.percent(totals["within_promise_share"]),
               help=GLOSSARY["within_promise_share"])
cols[3].metric("First-contact resolution", ui.percent(totals["first_contact_resolution"]),
               help=GLOSSARY["first_contact_resolution"])
cols[4].metric("NPS", "—" if totals["nps"] is None else f"{totals['nps']:+.0f}",
               help=GLOSSARY["nps"])

monthly = trends.monthly_kpis(db, start, end)
if monthly.is_empty():
    st.info("No activity in this period.")
    st.stop()

left, right = st.columns(2)
with left:
    figure = px.bar(monthly, x="month", y="net_revenue_try",
                    labels={"month": "", "net_revenue_try": "Net revenue (TRY)"},
                    title=f"Net revenue per month (last month: to {end:%d.%m})")
    st.plotly_chart(figure, width="stretch")
with right:
    by_category = trends.monthly_complaints_by_category(db, start, end)
    figure = px.bar(by_category.with_columns(by_category["category"].str.replace_all("_", " ")),
                    x="month", y="complaints", color="category",
                    labels={"month": "", "complaints": "Complaints opened", "category": "Cause"},
                    title="Complaints per month, by cause")
    st.plotly_chart(figure, width="stretch")

left, right = st.columns(2)
with left:
    figure = px.line(monthly, x="month", y="within_promise_share", markers=True,
                     labels={"month": "", "within_promise_share": "Share answered within 24 h"},
                     title="The 24-hour promise")
    figure.update_yaxes(tickformat=".0%", range=[0, 1])
    st.plotly_chart(figure, width="stretch")
with right:
    shares = monthly.select("month", pl.col("first_contact_resolution").alias("First-contact resolution"),
                            pl.col("csat_share").alias("CSAT (4-5 answers)"))
    figure = px.line(shares, x="month", y=["First-contact resolution", "CSAT (4-5 answers)"],
                     markers=True, title="First-contact resolution and CSAT",
                     labels={"month": "", "value": "Share", "variable": ""})
    figure.update_layout(legend={"orientation": "h", "y": -0.15})
    figure.update_yaxes(tickformat=".0%", range=[0, 1])
    st.plotly_chart(figure, width="stretch")
st.caption("Definitions: " + " · ".join(
    f"{name}: {GLOSSARY[key]}" for name, key in (("24 h share", "within_promise_share"),
                                                 ("FCR", "first_contact_resolution"),
                                                 ("CSAT", "csat"))))
