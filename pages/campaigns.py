"""Campaigns: the outreach lists people committed to, who owns them, how far they got, and whether
they worked."""
from datetime import datetime

import polars as pl
import streamlit as st

from crm360 import campaigns, config, session, ui
from crm360.glossary import GLOSSARY
from crm360.queries import campaign_contacts, campaign_results

KIND_HELP = ("Service: about the customer's own matter (an overdue answer, a stalled complaint, a follow-up, a "
             "fixed defect), on the channel it came in on, with no marketing consent needed. Marketing: only "
             "customers who agreed to the campaign's channel.")
GROUP_NAMES = {"contacted": "Contacted", "list": "The whole list", "control": "Control group"}


def _points(share: float) -> str:
    return f"{share * 100:+.1f} pts"


def _signed_money(value: float) -> str:
    return ("+" if value >= 0 else "-") + ui.money(abs(value))


# How each outcome is shown: its value, and a difference between two groups.
OUTCOME_FORMATS = {"bought": (ui.percent, _points), "complained": (ui.percent, _points),
                   "orders": ("{:.2f}".format, "{:+.2f}".format), "complaints": ("{:.2f}".format, "{:+.2f}".format),
                   "revenue_try": (ui.money, _signed_money)}


def show_results(campaign: dict, members: list[dict], now: datetime) -> None:
    st.subheader("Did it work?" if campaign["status"] == "finished" else "Did it work? (so far)", anchor=False)
    outcomes = campaign_results.group_outcomes(db, members, datetime.fromisoformat(campaign["created_at"]), now)
    st.caption(GLOSSARY["campaign_groups"])
    st.dataframe(
        outcomes.with_columns(pl.col("group").replace_strict(GROUP_NAMES))
        .select("group", "customers", "days_observed", *(name for name, *_ in campaign_results.OUTCOMES)),
        hide_index=True, width="stretch", column_config={
            "group": "Group", "customers": st.column_config.NumberColumn("Customers", format="%d"),
            "days_observed": st.column_config.NumberColumn("Days observed", format="%.1f",
                                                           help="Average days each customer was observed."),
            "bought": st.column_config.NumberColumn("Bought", format="percent",
                                                    help="Share who placed a completed order in the window."),
            "orders": st.column_config.NumberColumn("Orders per customer", format="%.2f"),
            "revenue_try": st.column_config.NumberColumn("Revenue per customer (TRY)", format="%.0f",
                                                         help=GLOSSARY["net_revenue"]),
            "complained": st.column_config.NumberColumn("Complained", format="percent",
                                                        help="Share who opened a complaint in the window."),
            "complaints": st.column_config.NumberColumn("Complaints per customer", format="%.2f")})
    if "control" not in outcomes["group"].to_list():
        st.warning("This campaign has no control group, so what the contact changed cannot be measured: "
                   "the figures above are what the customers did, not what the campaign caused.")
        return
    st.markdown("**The whole list against the control group**", help=GLOSSARY["campaign_effect"])
    effect = campaign_results.effects(outcomes, "list")
    for column, row in zip(st.columns(len(effect)), effect.iter_rows(named=True), strict=True):
        shown, differs = OUTCOME_FORMATS[row["outcome"]]
        difference = row["difference"]
        column.metric(row["label"], "–" if row["list"] is None else shown(row["list"]),
                      delta=None if difference is None else f"{differs(difference)} vs control",
                      delta_arrow="off", delta_color="off",
                      help=f"{row['meaning'].capitalize()}. " + (row["verdict"] if difference is None else
                           f"Control group {shown(row['control'])}; difference {differs(difference)}, 95% "
                           f"interval {differs(row['low'])} to {differs(row['high'])}: {row['verdict']}."))
        column.caption(row["verdict"])
    contacted = campaign_results.effects(outcomes, "contacted")
    verdicts = set(contacted["verdict"])
    said = (f"{verdicts.pop()} on any measure" if len(verdicts) == 1 else
            "; ".join(f"{r['label'].lower()} {r['verdict']}" for r in contacted.iter_rows(named=True)))
    st.caption(f"Window: {config.CAMPAIGN_RESULT_WINDOW_DAYS} days. The contacted customers alone against the "
               f"control group (a flattering comparison: they are the ones who picked up): {said}.")


user = session.require("campaigns")
st.title("Campaigns")
db = ui.database()
now = ui.now_caption(db)
store = ui.campaigns()
# Each role works its own kind: a service campaign's list carries phones without marketing consent,
# which marketing may not see; a marketing list is none of the service lead's business.
saved = [c for c in store.campaigns() if c["kind"] in campaign_contacts.kinds_for(user.role)]
if not saved:
    st.info("No campaign yet. Create one from a filtered list on the Outreach page.")
    st.stop()

table = pl.DataFrame(saved).with_columns(
    ((pl.col("contacted") / (pl.col("customers") - pl.col("control_group"))).fill_nan(0)).alias("progress"))
st.dataframe(table.select("campaign_id", "name", "kind", "owner", "channel", "due_date", "status", "customers",
                          "control_group", "contacted", "converted", "progress", "goal"),
             hide_index=True, width="stretch", column_config={
                 "campaign_id": st.column_config.NumberColumn("#", format="%d"), "name": "Campaign",
                 "kind": st.column_config.TextColumn("Kind", help=KIND_HELP),
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
                      format_func=lambda cid: next(f"#{c['campaign_id']} {c['name']} ({c['kind']})" for c in saved
                                                   if c["campaign_id"] == cid))
campaign = store.campaign(chosen)
member_rows = store.members(chosen)
show_results(campaign, member_rows, now)

st.subheader("Progress", anchor=False)
members = pl.DataFrame(member_rows, schema_overrides={"contacted_at": pl.String, "outcome": pl.String})
left, right = st.columns(2)
with left.form("status"):
    status = st.selectbox("Status", campaigns.STATUSES, index=campaigns.STATUSES.index(campaign["status"]))
    if st.form_submit_button("Set status"):
        store.set_status(chosen, status)
        session.record("campaign_change", page="campaigns", campaign=chosen, change="status", status=status)
        st.rerun()
reach = campaign_contacts.member_reach(db, member_rows, campaign["channel"], campaign["kind"])
working = campaign_contacts.working_list(reach)
with right.form("contacted"):
    to_contact = working["customer_id"].to_list()
    # No default: when the list changes under an open form (a colleague's record, a new load), the
    # choice resets to nothing rather than to another customer.
    customer = st.selectbox("Customer contacted", to_contact, index=None,
                            placeholder="Pick the customer") if to_contact else None
    outcome = st.selectbox("Outcome", campaigns.OUTCOMES)
    recorded = st.form_submit_button("Record the contact")
    if recorded and customer is None:
        st.warning("Pick the customer first (the list may have changed since the page was drawn).")
    if recorded and customer is not None:
        try:
            store.mark_contacted(chosen, customer, outcome)
            session.record("campaign_change", page="campaigns", customer_ids=[customer], campaign=chosen,
                           change="contacted", outcome=outcome)
            st.rerun()
        except campaigns.CampaignError as problem:
            st.error(str(problem))
if blocked := campaign_contacts.blocked_counts(reach):
    st.warning("Not to be contacted now, whatever the list says: " + ", ".join(
        f"{count:,} {campaign_contacts.NOT_REACHABLE[why]}" for why, count in blocked.items())
        + ". They are left out of the contact list below and cannot be recorded as contacted.",
        icon=":material/block:")
st.download_button(
    f"Download the contact list (CSV, {working.height:,} customers)",
    session.export_file("campaigns", lambda: campaign_contacts.contact_list(  # today's consent, at the click
        db, store.members(chosen), campaign["channel"], campaign["kind"]),
                        filters={"campaign": chosen, "channel": campaign["channel"]}),
    file_name=f"campaign-{chosen}.csv", mime="text/csv", disabled=working.is_empty(),
    help="The customers still to contact who may be contacted now, with the address for the campaign's channel: "
         "the control group, those contacted already and those who may not be contacted now are left out.")
member_ids = members["customer_id"].to_list()
session.record_when_changed("campaign-members", (chosen, tuple(member_ids)), "list_view", page="campaigns",
                            customer_ids=member_ids, campaign=chosen, list="campaign members")
st.dataframe(members.with_columns(ui.profile_link(user),
                                  pl.col("contacted_at").str.to_datetime(strict=False))
             .select("profile", "customer_id", "control", "reasons", "contacted_at", "outcome"),
             hide_index=True, width="stretch", column_config={
                 "profile": ui.profile_column(user),
                 "customer_id": st.column_config.NumberColumn("Customer", format="%d"),
                 "control": st.column_config.CheckboxColumn("Control group"), "reasons": "Why",
                 "contacted_at": st.column_config.DatetimeColumn("Contacted", format="DD.MM.YYYY HH:mm"),
                 "outcome": "Outcome"})
