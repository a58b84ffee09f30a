"""Customer lookup, for an agent on a live call. URL: /customer?customer=<id> or ?phone=<number>."""
import math
from datetime import datetime, time

import plotly.express as px
import polars as pl
import streamlit as st

from crm360 import record as views
from crm360 import session, ui
from crm360.glossary import GLOSSARY
from crm360.queries import customer as queries
from crm360.textnorm import mask_phone

user = session.require("customer")
st.title("Customer lookup")
db = ui.database()
now = ui.now_caption(db)


def _forget_choice() -> None:
    st.session_state.pop("chosen_customer", None)
    st.query_params.clear()


def _choose(customer_id: int) -> None:
    st.session_state["chosen_customer"] = customer_id
    st.query_params["customer"] = str(customer_id)


query = st.text_input(
    "Find a customer", key="search", on_change=_forget_choice,
    placeholder="Name, phone, e-mail or customer number — then Enter",
    help="Phones in any typing (0532 123 45 67, +90 532…), e-mail in any case, names without "
         "Turkish letters (ayse yilmaz finds Ayşe Yılmaz), words in any order.")


def _show_matches(result: queries.SearchResult, chosen: int) -> None:
    matches = result.matches
    if result.total <= 1:
        return
    shown = f"the first {matches.height:,} below" if result.total > matches.height else "all below"
    order = "whole-name matches, then the most recently in touch" if result.kind == "name" else "most recently in touch"
    st.caption(f"{result.total:,} customers match; {shown}, {order} first. The top one is open; "
               "type more of the name to narrow the list.")
    for row in matches.iter_rows(named=True):
        cols = st.columns([3, 2, 2, 3, 1])
        marker = "▶ " if row["customer_id"] == chosen else ""
        cols[0].text(f"{marker}{row['full_name']}  ·  #{row['customer_id']}")
        cols[1].text(row["city"] or "—")
        cols[2].text(mask_phone(row["phone"]))
        last = row["last_contact_at"]
        cols[3].text(f"last contact {last:%d.%m.%Y %H:%M}" if last else "no contact yet")
        cols[4].button("Open", key=f"open-{row['customer_id']}", on_click=_choose,
                       args=(row["customer_id"],))


def _resolve_customer() -> int | None:
    """Which customer to show: a click, a search, or a deep link, in that order."""
    chosen = st.session_state.get("chosen_customer")
    if query:
        result = queries.search_customers(db, query)
        if result.message:
            st.warning(ui.plain(result.message))
            return None
        if result.matches.is_empty():
            st.info(f"No customer matches “{ui.plain(query[:80])}”. Check the spelling or try the phone "
                    "number or e-mail.")
            return None
        if result.note:
            st.info(result.note, icon=":material/merge:")
        ids = result.matches["customer_id"].to_list()
        session.record_when_changed("customer-search", query, "search", page="customer", customer_ids=ids,
                                    query=query, kind=result.kind, matches=result.total)
        chosen = chosen if chosen in ids else ids[0]
        _show_matches(result, chosen)
        return chosen
    if chosen is not None:
        return chosen
    params = st.query_params
    if "customer" in params:
        raw = params["customer"]
        if raw.isdigit():
            return int(raw)
        st.error(f"“{ui.plain(raw[:40])}” in the link is not a customer number.")
        return None
    if "phone" in params:
        result = queries.search_customers(db, params["phone"])
        if result.kind != "phone" or result.message:
            st.error(f"“{ui.plain(params['phone'][:40])}” in the link is not a phone number.")
            return None
        if result.matches.is_empty():
            st.info(f"No customer has the phone number {ui.plain(params['phone'][:40])}.")
            return None
        ids = result.matches["customer_id"].to_list()
        session.record_when_changed("customer-search", params["phone"], "search", page="customer", customer_ids=ids,
                                    query=params["phone"], kind="phone link", matches=result.total)
        _show_matches(result, ids[0])
        if len(ids) > 1:
            st.warning(f"{len(ids)} customers share this number: ask the caller's name.")
        return ids[0]
    return None


def _show_consent(profile: dict) -> None:
    cols = st.columns([2, 1, 1, 1, 3])
    cols[0].markdown("**Marketing consent**")
    for col, (label, key) in zip(cols[1:], (("E-mail", "consent_email"), ("SMS", "consent_sms"),
                                            ("Phone", "consent_phone")), strict=False):
        given = profile[key]
        col.badge(f"{label}: {'yes' if given else 'no'}", color="green" if given else "gray",
                  icon=":material/check:" if given else ":material/close:")
    if refused := profile.get("iys_refused"):
        cols[4].caption(IYS_REFUSED.format(channels=", ".join(CHANNEL_TITLES.get(c, c) for c in refused)))


IYS_REFUSED = "Refused in İYS (the commercial-message register): {channels}. No marketing on it, whatever the CRM says."
CHANNEL_TITLES = {"email": "e-mail", "sms": "SMS", "phone": "phone"}
CHANNEL_ICONS = {"phone": "📞", "email": "✉️", "social": "💬", "web_chat": "🌐", "sms": "📱",
                 "in_person": "🏬", "post": "📮", "online": "🛒", "store": "🏬", "call_centre": "📞"}
KIND_LABELS = {"contact": "Contacts", "purchase": "Purchases", "return": "Returns",
               "complaint": "Complaints", "survey": "Survey answers"}
PAGE_SIZE = 50


def _show_header(profile: dict) -> None:
    st.header(ui.plain(profile["full_name"]), anchor=False)
    tenure_days = (now.date() - profile["signup_date"]).days if profile["signup_date"] else None
    tenure = f"customer for {tenure_days // 30} months" if tenure_days is not None else "tenure unknown"
    share = profile["value_top_share"]
    rank = f" · top {max(1, math.ceil(share * 100))}% by value" if share is not None and share <= 0.5 else ""
    st.text(f"#{profile['customer_id']} · {profile['city'] or 'city unknown'} · {tenure} · prefers "
            f"{profile['preferred_channel'] or '—'} · language {profile['language'] or '—'}{rank}")
    if profile["do_not_contact"]:
        st.error("DO NOT CONTACT — the customer asked not to be contacted for marketing or "
                 "outreach. Serve this call; do not offer campaigns.", icon=":material/block:")
    _show_consent(profile)


def _show_alerts(record: views.CustomerRecord) -> None:
    complaints = views.open_complaints(record, now)
    for row in complaints.iter_rows(named=True):
        label = row["category"].replace("_", " ")
        age = ui.hours(row["age_hours"])
        if row["promise_state"] == "breached":
            st.error(f"Open complaint #{row['complaint_id']} ({label}, {row['severity']}): "
                     f"no answer after {age} — 24-hour promise BREACHED.", icon=":material/alarm:")
        elif row["promise_state"] == "due":
            st.warning(f"Open complaint #{row['complaint_id']} ({label}): no answer yet, due in "
                       f"{ui.hours(max(row['hours_to_deadline'], 0))}.", icon=":material/hourglass_top:")
        else:
            st.info(f"Open complaint #{row['complaint_id']} ({label}): answered, not resolved; "
                    f"opened {age} ago.", icon=":material/pending:")
    for row in views.recent_warnings(record, now).iter_rows(named=True):
        st.warning(f"{row['happened_at']:%d.%m.%Y}: {ui.plain(row['message'])}",
                   icon=":material/sentiment_dissatisfied:")
    for campaign in ui.campaigns().of_customer(record.customer_id):
        if campaign["status"] in ("finished", "cancelled"):
            continue
        name = ui.plain(campaign["name"])
        if campaign["control"]:
            st.info(f"In the control group of campaign “{name}”: do not bring the campaign up.",
                    icon=":material/campaign:")
        elif campaign["contacted_at"]:
            st.info(f"Campaign “{name}”: contacted {campaign['contacted_at'][:10]}, outcome "
                    f"{campaign['outcome'].replace('_', ' ')}.", icon=":material/campaign:")
        else:
            st.info(f"Campaign “{name}” ({campaign['channel']}, {ui.plain(campaign['owner'])}, due "
                    f"{campaign['due_date']}): not contacted yet. Why: {ui.plain(campaign['reasons'])}.",
                    icon=":material/campaign:")


def _show_talking_points(record: views.CustomerRecord) -> None:
    points = views.talking_points(record, now)
    if points:
        st.markdown("**Talking points**")
        st.markdown("\n".join(f"- {ui.plain(p.text)} · _{p.source} \\#{p.source_id}_" for p in points))


def _show_metrics(profile: dict) -> None:
    cols = st.columns([1, 1.2, 1, 1, 1])
    cols[0].metric("Value so far", ui.money(profile["net_revenue_try"]), help=GLOSSARY["net_revenue"])
    expected = profile["expected_purchases_12m"]
    cols[1].metric("Predicted 12 months", ui.money(profile["predicted_clv_12m"]),
                   delta=f"{expected:.1f} purchases" if expected is not None else None, delta_color="off",
                   delta_arrow="off", help=GLOSSARY["predicted_clv_12m"] + " " + GLOSSARY["expected_purchases_12m"])
    average = profile["average_order_value_try"]
    cols[2].metric("Orders", f"{profile['orders']:,}", delta=f"avg {ui.money(average)}" if average else None,
                   delta_color="off", delta_arrow="off",
                   help=GLOSSARY["orders"] + " Avg: " + GLOSSARY["average_order_value"])
    cols[3].metric("Open complaints", profile["open_complaints"], help=GLOSSARY["open_complaints"])
    last = profile["last_contact_at"]
    cols[4].metric("Last contact", f"{last:%d.%m.%y}" if last else "—", help=GLOSSARY["last_contact"])


CHURN_COLOURS = {"high": "red", "medium": "orange", "low": "green"}


def _show_standing(profile: dict) -> None:
    """Segment, tier and churn risk as badges under the name: who this customer is to the business."""
    cols = st.columns([2, 2, 3, 5])
    cols[0].badge(profile["rfm_segment"], color="blue", icon=":material/groups:", help=GLOSSARY["rfm_segment"])
    tier = profile["loyalty_tier"]
    cols[1].badge(f"{tier} tier" if tier else "no tier", color="violet" if tier else "gray",
                  icon=":material/workspace_premium:", help=GLOSSARY["loyalty_tier"])
    band = profile["churn_risk_band"]
    label = f"churn risk {band} ({profile['churn_risk']:.0%})" if band else "churn risk —"
    cols[2].badge(label, color=CHURN_COLOURS.get(band, "gray"), icon=":material/trending_down:",
                  help=GLOSSARY["churn_risk"])
    if band and profile["churn_risk_reasons"]:
        cols[3].caption("Because: " + "; ".join(ui.plain(r) for r in profile["churn_risk_reasons"]))


def _show_timeline(record: views.CustomerRecord) -> None:
    customer_id = record.customer_id
    left, middle, right = st.columns([2, 2, 2])
    kinds = left.multiselect("Kinds", list(KIND_LABELS), default=list(KIND_LABELS),
                             format_func=KIND_LABELS.get, key=f"kinds-{customer_id}")
    channels = middle.multiselect("Channels (all when empty)", list(CHANNEL_ICONS),
                                  key=f"channels-{customer_id}")
    period = right.date_input("Between", value=(), format="DD.MM.YYYY", key=f"period-{customer_id}")
    start = datetime.combine(period[0], time.min) if len(period) >= 1 else None
    end = datetime.combine(period[1], time.max) if len(period) == 2 else None
    filters = {"kinds": tuple(kinds), "channels": tuple(channels), "start": start, "end": end}
    events = views.timeline(record, **filters)
    total = events.height
    if total == 0:
        st.info("Nothing matches these filters.")
        return
    pages = -(-total // PAGE_SIZE)
    page = st.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, value=1,
                           key=f"page-{customer_id}-{hash(str(filters))}")
    events = events.slice((page - 1) * PAGE_SIZE, PAGE_SIZE)
    shown = events.with_columns(
        events["channel"].replace_strict(CHANNEL_ICONS, default="•").alias("icon"))
    st.caption(f"Events {(page - 1) * PAGE_SIZE + 1:,}-{min(page * PAGE_SIZE, total):,} of {total:,}, newest first.")
    st.dataframe(shown.select("happened_at", "icon", "kind", "channel", "summary", pl.col("detail").fill_null("")),
                 hide_index=True, width="stretch",
                 column_config={"happened_at": st.column_config.DatetimeColumn("When", format="DD.MM.YYYY HH:mm"),
                                "icon": st.column_config.TextColumn("", width="small")})


def _show_purchases(record: views.CustomerRecord) -> None:
    totals = views.purchase_totals(record)
    cols = st.columns(4)
    cols[0].metric("Completed orders", f"{totals['completed']:,}", help=GLOSSARY["orders"])
    cols[1].metric("Net revenue", ui.money(totals["net_revenue_try"]), help=GLOSSARY["net_revenue"])
    cols[2].metric("Returned", f"{totals['returned']:,}", help="Orders returned; their value is not revenue.")
    cols[3].metric("Cancelled", f"{totals['cancelled']:,}")
    spend = views.monthly_spend(record)
    if not spend.is_empty():
        figure = px.bar(spend, x="month", y="net_revenue_try", title="Spend per month (completed orders)",
                        labels={"month": "", "net_revenue_try": "Net revenue (TRY)"})
        st.plotly_chart(figure, width="stretch")


def _table_or_note(frame: pl.DataFrame, empty_note: str, column_config: dict) -> None:
    if frame.is_empty():
        st.info(empty_note)
    else:
        st.dataframe(frame, hide_index=True, width="stretch", column_config=column_config)


def _show_complaints(record: views.CustomerRecord) -> None:
    _table_or_note(views.complaint_history(record), "No complaints.", {
        "opened_at": st.column_config.DatetimeColumn("Opened", format="DD.MM.YYYY HH:mm"),
        "response_hours": st.column_config.NumberColumn("First answer (h)", help=GLOSSARY["promise"]),
        "resolution_hours": st.column_config.NumberColumn("Resolved after (h)"),
    })


def _show_channels(record: views.CustomerRecord) -> None:
    _table_or_note(views.contacts_by_channel(record), "No contacts yet.", {
        "last_contact_at": st.column_config.DatetimeColumn("Last", format="DD.MM.YYYY HH:mm")})


def _show_satisfaction(record: views.CustomerRecord) -> None:
    answers = views.satisfaction_history(record)
    if answers.is_empty():
        st.info("No CSAT or NPS answers yet.")
        return
    figure = px.scatter(answers, x="answered_at", y="score", color="measure", title="Answers over time",
                        labels={"answered_at": "", "score": "Score", "measure": ""})
    st.plotly_chart(figure, width="stretch")


def _show_profile(customer_id: int) -> None:
    record = queries.load_customer(db, customer_id)
    if record is None and (merge := queries.merged_into(db, customer_id)) is not None:
        st.info(queries.merge_note(customer_id, *merge), icon=":material/merge:")
        customer_id, record = merge[0], queries.load_customer(db, merge[0])
    if record is None:
        st.error(f"There is no customer #{customer_id}.")
        return
    session.record_when_changed("customer-view", customer_id, "profile_view", page="customer",
                                customer_ids=[customer_id])
    _show_header(record.profile)
    _show_standing(record.profile)
    _show_alerts(record)
    _show_talking_points(record)
    _show_metrics(record.profile)
    # Only the open tab is computed and sent: a lookup draws one section, not five (two of them
    # charts), which keeps the browser's work per lookup small.
    tabs = st.tabs(["Timeline", "Purchases", "Complaints", "Contacts by channel", "Satisfaction"],
                   key="profile-section", on_change="rerun")
    sections = (_show_timeline, _show_purchases, _show_complaints, _show_channels, _show_satisfaction)
    for tab, show in zip(tabs, sections, strict=True):
        if tab.open:
            with tab:
                show(record)


selected = _resolve_customer()
if selected is not None:
    _show_profile(selected)
elif not query and not st.query_params:
    st.info("Type what the caller gives you: a name, a phone number, an e-mail address or a "
            "customer number, and press Enter.")
