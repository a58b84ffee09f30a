"""Outreach candidates: who should hear from us first, and why."""
from dataclasses import replace
from datetime import timedelta

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm360 import campaigns, config, export, outreach_rules, segments, session, ui
from crm360.glossary import GLOSSARY
from crm360.queries import outreach
from crm360.queries.value import SEGMENT_ORDER
from crm360.textnorm import mask_phone

# Marketing sees every row with consented contact details only; a service lead sees the rows with a
# service reason, with the phone or e-mail their matter needs, and makes service campaigns.
VIEW_TEXT = {
    outreach_rules.MARKETING: {
        "intro": "One row per customer with every reason that applies, from the rules below. Nobody who asked "
                 "not to be contacted is listed; marketing reasons only go to a channel the customer consented "
                 "to (in the CRM, and not refused in the İYS register), and only consented contact details are "
                 "shown: the others are masked.",
        "campaign": "marketing", "reached": "agreed to {channel} marketing", "contacts_help": "consented_contacts",
        "not_reached": "no marketing consent on {channel} (or refused it in İYS), or no address for it"},
    outreach_rules.SERVICE: {
        "intro": "Customers with a service reason: an overdue answer, a stalled complaint, a follow-up after a "
                 "resolution or a fixed defect. Contacting a customer about their own matter needs no marketing "
                 "consent, so the phone or e-mail that matter came in on is shown; nobody who asked not to be "
                 "contacted is listed.",
        "campaign": "service", "reached": "whose matter came in on {channel}", "contacts_help": "service_contacts",
        "not_reached": "their matter came in on another channel, or there is no address for it on file"},
}
CHANNEL_NAMES = {"phone": "phone", "email": "e-mail", "sms": "SMS"}



def create_campaign(draft: campaigns.NewCampaign, members: pl.DataFrame, chosen: outreach.CandidateFilter) -> None:
    """Save the campaign once (a second click or a colleague's identical draft finds the first)."""
    try:
        saved = ui.campaigns().save(
            draft, list(zip(members["customer_id"], ["; ".join(r) for r in members["reasons"]], strict=True)))
    except campaigns.CampaignError as problem:
        st.error(str(problem))
        return
    if not saved.created:
        st.info(f"This campaign was already saved as #{saved.campaign_id}; nothing new was made.")
        return
    session.record("campaign_change", page="outreach", customer_ids=members["customer_id"].to_list(),
                   campaign=saved.campaign_id, change="created", name=draft.name, kind=draft.kind,
                   channel=draft.channel, filters=chosen.described())
    st.success(f"{VIEW_TEXT[draft.kind]['campaign'].capitalize()} campaign #{saved.campaign_id} saved with "
               f"{members.height:,} customers; see Campaigns.")


user = session.require("outreach")
st.title("Outreach")
db = ui.database()
now = ui.now_caption(db)
view = outreach_rules.SERVICE if user.role == "service_lead" else outreach_rules.MARKETING
text = VIEW_TEXT[view]

st.subheader("Who to contact, and why", anchor=False)
st.caption(text["intro"])
rule_names = {r.code: r.reason.split(":")[0] for r in outreach_rules.RULES
              if view == outreach_rules.MARKETING or r.kind == view}
with st.container(border=True):
    first, second, third, fourth = st.columns(4)
    chosen = outreach.CandidateFilter(
        rules=tuple(first.multiselect("Reason", list(rule_names), format_func=rule_names.get)),
        segments=tuple(second.multiselect("Segment", SEGMENT_ORDER)),
        tiers=tuple(third.multiselect("Loyalty tier", [name for name, _ in config.LOYALTY_TIERS])),
        cities=tuple(fourth.multiselect("City", outreach.candidate_cities(db))),
        channels=tuple(first.multiselect("Channel", ["phone", "email", "sms"])),
        churn_bands=tuple(second.multiselect("Churn risk", list(segments.CHURN_BAND_ORDER))),
        min_value_try=third.number_input("Value at stake from (TRY)", min_value=0.0, value=None, step=1000.0),
        max_value_try=fourth.number_input("Value at stake up to (TRY)", min_value=0.0, value=None, step=1000.0),
        held_back=ui.campaigns().held_back(now), view=view)
answer = outreach.filter_answer(db, chosen)
totals = answer.totals
if answer.held_back:
    st.caption(f"{answer.held_back:,} more would be listed but were contacted in a campaign in the last "
               f"{config.CONTACT_PRESSURE_DAYS} days: held back.")
cols = st.columns(4)
cols[0].metric("Customers to contact", f"{totals['customers']:,}")
cols[1].metric("Value at stake", ui.money(totals["value_at_stake_try"]), help=GLOSSARY["value_at_stake"])
cols[2].metric("With a service reason", f"{totals['service']:,}")
if view == outreach_rules.MARKETING:  # a service lead works the customers' own matters only
    cols[3].metric("With a marketing reason", f"{totals['marketing']:,}")
if totals["customers"]:
    by_rule = answer.by_rule.with_columns(
        pl.col("rule").replace_strict(rule_names).alias("reason"))
    # graph_objects, not plotly.express: express spends ~35 ms per call on a filter change.
    figure = go.Figure(go.Bar(x=by_rule["customers"].to_list(), y=by_rule["reason"].to_list(), orientation="h",
                              hovertemplate="%{y}: %{x:,} customers<extra></extra>"))
    figure.update_layout(height=320, title="Customers by reason", margin={"l": 10, "r": 10, "t": 40, "b": 10})
    figure.update_yaxes(categoryorder="total ascending")
    figure.update_xaxes(title="customers")
    st.plotly_chart(figure, width="stretch")
    listed = answer.top
    session.record_when_changed("outreach-list", repr(chosen), "list_view", page="outreach",
                                customer_ids=listed["customer_id"].to_list(), filters=chosen.described())
    if view == outreach_rules.SERVICE:
        contacts = ("service_channel", "service_phone", "service_email")
        shown = listed.with_columns(pl.col("service_phone").alias("phone"), pl.col("service_email").alias("email"))
    else:
        contacts = ("marketing_channel", "service_channel", "email", "phone")
        # The file keeps the masked details in columns of their own; the table shows one of the two.
        shown = listed.with_columns(pl.coalesce("email", "email_masked").alias("email"),
                                    pl.coalesce("phone", "phone_masked").alias("phone"),
                                    pl.col("service_channel", "marketing_channel").fill_null("—"))
    st.dataframe(
        shown.with_columns(ui.profile_link(user))
        .select("profile", "priority", "full_name", *(c for c in contacts if c.endswith("channel")), "email",
                "phone", "reasons", "city", "rfm_segment", "loyalty_tier", "churn_risk_band", "value_at_stake_try",
                "chance_contact_helps"),
        hide_index=True, width="stretch", column_config={
            "profile": ui.profile_column(user),
            "priority": st.column_config.NumberColumn("Priority", format="%.0f", help=GLOSSARY["outreach_priority"]),
            "full_name": "Customer", "reasons": st.column_config.ListColumn("Reasons"),
            "service_channel": "Service channel", "marketing_channel": "Marketing channel",
            "email": st.column_config.TextColumn("E-mail", help=GLOSSARY[text["contacts_help"]]),
            "phone": st.column_config.TextColumn("Phone", help=GLOSSARY[text["contacts_help"]]),
            "value_at_stake_try": st.column_config.NumberColumn("Value at stake (TRY)", format="%.0f"),
            "chance_contact_helps": st.column_config.NumberColumn("Chance it helps", format="percent")})
    st.caption(f"The top {listed.height:,} of {totals['customers']:,} by priority; the file has all of them.")
    # The whole list is built when the button is clicked, not on every filter change.
    as_csv, as_excel = st.columns(2)
    as_csv.download_button(
        "Download the list (CSV)", session.export_file("outreach", lambda: outreach.candidates(db, chosen, limit=None),
                                                       filters=chosen.described()),
        file_name="outreach.csv", mime="text/csv", width="stretch")
    if totals["customers"] < export.EXCEL_MAX_ROWS:
        as_excel.download_button(
            "Download the list (Excel)",
            session.export_file("outreach", lambda: outreach.candidates(db, chosen, limit=None), "xlsx",
                                filters=chosen.described()),
            file_name="outreach.xlsx", width="stretch",
            help="An Excel workbook takes about 10 s per 100,000 rows to build; the CSV is much faster.",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    else:
        as_excel.caption(f"{totals['customers']:,} rows do not fit in one Excel sheet: narrow the filters, or "
                         "download the CSV.")
    reach = outreach.campaign_reach(db, chosen)
    st.markdown(f"**Turn this list into a {text['campaign']} campaign**")
    offered = reach.offered()
    if not offered:
        st.info(f"None of the {reach.picked:,} customers these filters pick can get a {text['campaign']} campaign "
                "on any channel: " + (text["not_reached"].format(channel="any channel") + ", do-not-contact, or "
                f"contacted in the last {config.CONTACT_PRESSURE_DAYS} days."))
    else:
        channel = st.selectbox("Channel", offered, format_func=CHANNEL_NAMES.get,
                               help="Only channels that reach someone on this list are offered.")
        named = CHANNEL_NAMES[channel]
        st.caption(
            f"Of the {reach.picked:,} customers these filters pick (everyone a reason fires for, also those the list "
            f"above leaves out), {reach.reached[channel]:,} "
            f"({text['reached'].format(channel=named)}) get it; {reach.left_out(channel):,} are left out: "
            f"{reach.no_consent(channel):,} {text['not_reached'].format(channel=named)}, "
            f"{reach.do_not_contact:,} asked not to be contacted, {reach.held_back:,} were contacted in a "
            f"campaign in the last {config.CONTACT_PRESSURE_DAYS} days.")
        with st.form("new-campaign", border=True):
            left, middle, right = st.columns(3)
            name = left.text_input("Name", max_chars=200)
            due = left.date_input("Due", value=now.date() + timedelta(days=14), format="DD.MM.YYYY")
            owner = middle.text_input("Owner", max_chars=200)
            goal = middle.text_input("How success is measured", max_chars=200,
                                     placeholder="e.g. purchases in the 30 days after contact")
            if view == outreach_rules.SERVICE:
                hold_back = False
                right.caption("A service campaign holds back no one: every customer's matter gets its answer.")
            else:
                hold_back = right.checkbox(f"Hold back {config.CAMPAIGN_CONTROL_SHARE:.0%} as a control group",
                                           value=True)
            if st.form_submit_button("Create campaign"):
                draft = campaigns.NewCampaign(name, owner, channel, due, goal, kind=view,
                                              filters=repr(replace(chosen, held_back=())),
                                              control_share=config.CAMPAIGN_CONTROL_SHARE if hold_back else 0.0)
                create_campaign(draft, outreach.campaign_audience(db, chosen, channel), chosen)
else:
    st.info("No customer matches these filters.")
with st.expander("The rules and thresholds in force"):
    st.dataframe(pl.DataFrame([{"reason": r.reason, "code": r.code, "kind": r.kind, "reads": r.reads,
                                "chance contact helps": r.chance_it_helps} for r in outreach_rules.RULES]),
                 hide_index=True, width="stretch")

st.subheader(f"Complaints past the {config.RESPONSE_PROMISE_HOURS}-hour promise", anchor=False)
st.caption("Service contacts: the customer raised the matter, so no marketing consent is "
           "needed; customers who asked not to be contacted are left out.")
counts = outreach.overdue_counts(db, now)
cols = st.columns(3)
cols[0].metric("Overdue, to call", f"{counts['listed']:,}", help=GLOSSARY["promise"])
cols[1].metric("Held back: do not contact", f"{counts['do_not_contact']:,}")
cols[2].metric("All overdue", f"{counts['overdue']:,}")

candidates = outreach.overdue_complaints(db, now)
if candidates.is_empty():
    st.success("Every complaint older than the promise has an answer.")
else:
    overdue_ids = candidates["customer_id"].unique(maintain_order=True).to_list()
    session.record_when_changed("outreach-overdue", tuple(overdue_ids), "list_view", page="outreach",
                                customer_ids=overdue_ids, list="complaints past the promise")
    shown = candidates.with_columns(
        candidates["phone"].map_elements(mask_phone, return_dtype=str).alias("phone"),
        (candidates["category"].str.replace_all("_", " ")).alias("category"),
        ui.profile_link(user),
    ).select("profile", "hours_waiting", "severity", "category", "full_name", "customer_id", "city",
             "channel", "opened_at", "phone", "net_revenue_try", "complaint_id")
    st.dataframe(
        shown, hide_index=True, width="stretch",
        column_config={
            "hours_waiting": st.column_config.NumberColumn("Hours waiting", format="%.0f",
                                                           help=GLOSSARY["hours_waiting"]),
            "net_revenue_try": st.column_config.NumberColumn("Net revenue (TRY)", format="%.0f",
                                                             help=GLOSSARY["net_revenue"]),
            "opened_at": st.column_config.DatetimeColumn("Opened", format="DD.MM.YYYY HH:mm"),
            "profile": ui.profile_column(user, "Profile"),
            "customer_id": st.column_config.NumberColumn("Customer #", format="%d"),
            "full_name": "Customer", "city": "City", "severity": "Severity", "category": "Cause",
            "channel": "Came in by", "phone": "Phone", "complaint_id": "Complaint #",
        })
    st.caption(f"Showing the first {candidates.height:,}, most severe and longest waiting first.")

st.subheader("Tell them it is fixed", anchor=False)
st.caption("Customers who complained about a product defect before its fix shipped. Service "
           "contacts about the matter they raised; do-not-contact customers are left out.")
fixed = outreach.fixed_issue_candidates(db)
if fixed.is_empty():
    st.info("No customer is waiting to hear about a fixed defect.")
else:
    st.metric("Customers to tell", f"{fixed['customer_id'].n_unique():,}")
    fixed_ids = fixed["customer_id"].unique(maintain_order=True).to_list()
    session.record_when_changed("outreach-fixed", tuple(fixed_ids), "list_view", page="outreach",
                                customer_ids=fixed_ids, list="tell them it is fixed")
    st.dataframe(
        fixed.with_columns(ui.profile_link(user))
        .select("profile", "defect", "fix_shipped_at", "full_name", "customer_id", "city",
                "preferred_channel", "complained_at", "fix_description"),
        hide_index=True, width="stretch",
        column_config={
            "profile": ui.profile_column(user, "Profile"),
            "defect": "Defect", "fix_shipped_at": st.column_config.DateColumn("Fixed on", format="DD.MM.YYYY"),
            "full_name": "Customer", "customer_id": st.column_config.NumberColumn("Customer #", format="%d"),
            "city": "City", "preferred_channel": "Prefers",
            "complained_at": st.column_config.DatetimeColumn("Complained", format="DD.MM.YYYY"),
            "fix_description": "What was fixed",
        })
