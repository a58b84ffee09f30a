"""Campaigns: the outreach lists people committed to, who owns them, and how far they got."""
import polars as pl
import streamlit as st

from crm360 import campaigns, ui

st.title("Campaigns")
db = ui.database()
ui.now_caption(db)
store = ui.campaigns()
saved = store.campaigns()
if not saved:
    st.info("No campaign yet. Create one from a filtered list on the Outreach page.")
    st.stop()

table = pl.DataFrame(saved).with_columns(
    ((pl.col("contacted") / (pl.col("customers") - pl.col("control_group"))).fill_nan(0)).alias("progress"))
st.dataframe(table.select("campaign_id", "name", "owner", "channel", "due_date", "status", "customers",
                          "control_group", "contacted", "converted", "progress", "goal"),
             hide_index=True, width="stretch", column_config={
                 "campaign_id": st.column_config.NumberColumn("#", format="%d"), "name": "Campaign",
                 "owner": "Owner", "channel": "Channel", "due_date": "Due", "status": "Status",
                 "customers": "Customers", "contacted": "Contacted", "converted": "Converted",
                 "goal": "Success measured by",
                 "progress": st.column_config.ProgressColumn("Progress", min_value=0, max_value=1, format="percent",
                                                             help="Contacted customers of those to contact "
                                                                  "(the control group is not contacted)."),
                 "control_group": st.column_config.NumberColumn("Control group", format="%d",
                                                                help="Drawn at creation and not contacted, to "
                                                                     "measure what the contact changed.")})

chosen = st.selectbox("Campaign", [c["campaign_id"] for c in saved],
                      format_func=lambda cid: next(f"#{c['campaign_id']} {c['name']}" for c in saved
                                                   if c["campaign_id"] == cid))
left, right = st.columns(2)
with left.form("status"):
    current = next(c["status"] for c in saved if c["campaign_id"] == chosen)
    status = st.selectbox("Status", campaigns.STATUSES, index=campaigns.STATUSES.index(current))
    if st.form_submit_button("Set status"):
        store.set_status(chosen, status)
        st.rerun()
with right.form("contacted"):
    members = pl.DataFrame(store.members(chosen))
    to_contact = members.filter((pl.col("control") == 0) & pl.col("contacted_at").is_null())["customer_id"].to_list()
    customer = st.selectbox("Customer contacted", to_contact) if to_contact else None
    outcome = st.selectbox("Outcome", campaigns.OUTCOMES)
    if st.form_submit_button("Record the contact") and customer is not None:
        try:
            store.mark_contacted(chosen, customer, outcome)
            st.rerun()
        except campaigns.CampaignError as problem:
            st.error(str(problem))
st.dataframe(members.with_columns(pl.format("/customer?customer={}", "customer_id").alias("profile"))
             .select("profile", "customer_id", "control", "reasons", "contacted_at", "outcome"),
             hide_index=True, width="stretch", column_config={
                 "profile": st.column_config.LinkColumn("Open", display_text="open"),
                 "customer_id": st.column_config.NumberColumn("Customer", format="%d"),
                 "control": st.column_config.CheckboxColumn("Control group"), "reasons": "Why",
                 "contacted_at": "Contacted", "outcome": "Outcome"})
