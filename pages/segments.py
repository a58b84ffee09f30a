"""Loyalty segments for marketing: who is in each, what they are worth, how they moved."""
from datetime import timedelta

import plotly.express as px
import polars as pl
import streamlit as st

from crm360 import charts, segments, session, ui
from crm360.glossary import GLOSSARY
from crm360.queries import trends, value

user = session.require("segments")
st.title("Segments")
db = ui.database()
now = ui.now_caption(db)

summary = value.segment_summary(db)
total = summary["customers"].sum()
cols = st.columns(4)
buyers = summary.filter(pl.col("segment") != segments.PROSPECTS)
cols[0].metric("Customers", f"{total:,}")
cols[1].metric("Buyers in a segment", f"{buyers['customers'].sum():,}", help=GLOSSARY["rfm_segment"])
cols[2].metric("Predicted value, next 12 months", ui.money(summary["predicted_clv_12m"].sum()),
               help=GLOSSARY["predicted_clv_12m"])
cols[3].metric("High churn risk", f"{summary['high_churn_risk'].sum():,}", help=GLOSSARY["churn_risk"])

st.subheader("Size and value per segment", anchor=False)
long = summary.unpivot(index="segment", on=["net_revenue_try", "predicted_clv_12m"], variable_name="measure",
                       value_name="try").with_columns(pl.col("measure").replace_strict(
                           {"net_revenue_try": "value so far", "predicted_clv_12m": "predicted, next 12 months"}))
figure = px.bar(long, x="segment", y="try", color="measure", barmode="group", height=380,
                labels={"segment": "", "try": "TRY", "measure": ""},
                category_orders={"segment": value.SEGMENT_ORDER})
st.plotly_chart(figure, width="stretch")
st.dataframe(
    summary.with_columns((pl.col("customers") / total).alias("share")), hide_index=True, width="stretch",
    column_config={
        "segment": "Segment", "customers": st.column_config.NumberColumn("Customers", format="%d"),
        "share": st.column_config.NumberColumn("Share", format="percent"),
        "net_revenue_try": st.column_config.NumberColumn("Value so far (TRY)", format="compact",
                                                         help=GLOSSARY["net_revenue"]),
        "predicted_clv_12m": st.column_config.NumberColumn("Predicted 12 months (TRY)", format="compact",
                                                           help=GLOSSARY["predicted_clv_12m"]),
        "average_p_alive": st.column_config.NumberColumn("Still buying (avg)", format="percent",
                                                         help=GLOSSARY["p_alive"]),
        "high_churn_risk": st.column_config.NumberColumn("High churn risk", format="%d",
                                                         help=GLOSSARY["churn_risk"])})

with st.expander("How each segment is defined"):
    st.markdown(GLOSSARY["rfm_segment"])
    st.dataframe(pl.DataFrame([{"segment": s.name, "rule": s.rule, "what to do": s.action}
                               for s in segments.RFM_SEGMENTS]), hide_index=True, width="stretch")
    st.markdown(GLOSSARY["loyalty_tier"])
    st.dataframe(value.tier_summary(db), hide_index=True, width="stretch")

st.subheader("How customers moved between segments", anchor=False)
bounds = trends.data_range(db)
if bounds is not None:
    first, last = bounds
    default_from = max(first, last - timedelta(days=182))
    picked = st.date_input("From one date to another", value=(default_from, last), min_value=first,
                           max_value=last, format="DD.MM.YYYY")
    if len(picked) == 2 and picked[0] < picked[1]:
        flow = value.segment_flow(db, picked[0], picked[1])
        moved = flow.filter(pl.col("from_segment") != pl.col("to_segment"))
        figure = charts.segment_sankey(flow, picked[0], picked[1])
        st.plotly_chart(figure, width="stretch")
        stayed = flow.filter(pl.col("from_segment") == pl.col("to_segment"))["customers"].sum()
        st.caption(f"{flow['customers'].sum():,} customers who had signed up by {picked[1]:%d.%m.%Y}: "
                   f"{stayed:,} stayed in their segment, {moved['customers'].sum():,} moved. The biggest moves:")
        st.dataframe(moved.head(10), hide_index=True, width="stretch")
    else:
        st.info("Pick two different dates, the earlier first.")

st.subheader("Customers in a segment", anchor=False)
chosen = st.selectbox("Segment", value.SEGMENT_ORDER, index=0)
members = value.segment_customers(db, chosen)
in_segment = summary.filter(pl.col("segment") == chosen)["customers"].sum()
unlisted = value.segment_do_not_contact(db, chosen)
st.caption(f"The {members.height:,} most valuable of {in_segment:,} customers in the segment, by predicted "
           f"value. {unlisted:,} who asked not to be contacted are counted in the figures above but not listed. "
           "Consent columns say whom marketing may contact (refusals in the İYS register applied)"
           + ("; the link opens the customer's page." if session.may_open(user, "customer") else "."))
session.record_when_changed("segment-list", chosen, "list_view", page="segments",
                            customer_ids=members["customer_id"].to_list(), segment=chosen)
members = members.with_columns(ui.profile_link(user))
st.dataframe(members.select("profile", pl.exclude("profile")), hide_index=True, width="stretch", column_config={
    "profile": ui.profile_column(user),
    "customer_id": st.column_config.NumberColumn("Customer", format="%d"),
    "net_revenue_try": st.column_config.NumberColumn("Value so far (TRY)", format="%.0f"),
    "predicted_clv_12m": st.column_config.NumberColumn("Predicted 12 months (TRY)", format="%.0f"),
    "last_purchase_at": st.column_config.DatetimeColumn("Last purchase", format="DD.MM.YYYY")})
