"""Customer lookup, for an agent on a live call. URL: /customer?customer=<id> or ?phone=<number>.

The first screen at 1280x720 holds what the call needs before anything is scrolled: who the
caller should be (to verify them), consent and do-not-contact, the alerts with an opening line,
value and churn, and the latest five events; the tabs below hold the rest."""
import sqlite3
from datetime import datetime, time

import plotly.express as px
import polars as pl
import streamlit as st

from crm360 import record as views
from crm360 import session, ui, wrapup_view
from crm360.glossary import GLOSSARY
from crm360.queries import customer as queries

PAGE_TITLE = "Customer lookup"
NEW_CALL_KEY = "F2"  # Esc would also clear the call when it only meant to close a menu
# How an agent may check that the caller is the customer (the audit entry records which).
VERIFY_METHODS = {"phone": "Phone number", "birth_date": "Birth date", "email": "E-mail", "customer_number":
                  "Customer number", "address": "Address or city", "order": "A recent order"}
RECENT_COUNT = 8
TEXT = {
    "search": "Find a customer",
    "search_placeholder": "Name, phone, e-mail or customer number — then Enter",
    "search_help": "Phones in any typing (0532 123 45 67, +90 532…), e-mail in any case, names without Turkish "
                   "letters (ayse yilmaz finds Ayşe Yılmaz), words in any order.",
    "new_call": "New call",
    "new_call_help": f"Clear the search, the customer and the verification for the next call ({NEW_CALL_KEY}).",
    "start": "Type what the caller gives you: a name, a phone number, an e-mail address or a customer number, "
             "and press Enter. A customer number, an e-mail or a phone with one holder opens at once; with "
             "several matches you pick the caller.",
    "pick": "Which of them is calling?",
    "pick_placeholder": "Pick the caller: ↓ from the search box, arrows, Enter",
    "pick_caption": "{total:,} customers match{shown}: nothing is opened until you pick one. Ask for the city, "
                    "birth year or the phone's last digits; or type more of the name.",
    "guessed": "No exact match; {total:,} with one letter different: pick if one is the caller.",
    "shared_phone": "{total} customers share this number: ask the caller's name, then pick.",
    "verify": "Verify caller",
    "verify_how": "Checked against",
    "verify_done": "Caller verified",
    "verified": "Verified {at}: {how}",
    "not_verified": "Caller not verified yet",
    "recent": "Recently opened",
    "opening": "Suggested opening",
    "talking": "Talking points",
    "latest": "Latest five events",
    "no_events": "Nothing on record yet.",
    "dnc": "DO NOT CONTACT",
    "dnc_help": "The customer asked not to be contacted for marketing or outreach. Serve this call; do not offer "
                "campaigns.",
}
IYS_REFUSED = "Refused in İYS (the commercial-message register): {channels}. No marketing on it, whatever the CRM says."
CHANNEL_TITLES = {"email": "e-mail", "sms": "SMS", "phone": "phone", "web_chat": "web chat", "social": "social media",
                  "in_person": "in person", "post": "post"}
CHANNEL_ICONS = {"phone": "📞", "email": "✉️", "social": "💬", "web_chat": "🌐", "sms": "📱",
                 "in_person": "🏬", "post": "📮", "online": "🛒", "store": "🏬", "call_centre": "📞"}
KIND_LABELS = {"contact": "Contacts", "purchase": "Purchases", "return": "Returns",
               "complaint": "Complaints", "survey": "Survey answers"}
ALERT_ICONS = {"error": ":material/priority_high:", "warning": ":material/warning:", "info": ":material/info:"}
CHURN_COLOURS = {"high": "red", "medium": "orange", "low": "green"}
PAGE_SIZE = 50

user = session.require("customer")
db = ui.database()
with st.sidebar:
    now = ui.now_caption(db)


def _forget_choice() -> None:
    st.session_state.pop("chosen_customer", None)
    st.query_params.clear()


def _open_customer(customer_id: int) -> None:
    """A click on a recently opened customer: a new lookup, so the search box empties."""
    st.session_state["search"] = ""
    st.session_state["chosen_customer"] = customer_id
    st.query_params.clear()
    st.query_params["customer"] = str(customer_id)


def _new_call() -> None:
    st.session_state["search"] = ""
    for key in ("chosen_customer", "verified"):
        st.session_state.pop(key, None)
    st.query_params.clear()
    st.session_state["call_number"] = st.session_state.get("call_number", 0) + 1


search_column, button_column = st.columns([5, 1.3], vertical_alignment="bottom")
query = search_column.text_input(TEXT["search"], key="search", on_change=_forget_choice, max_chars=None,
                                 placeholder=TEXT["search_placeholder"], help=TEXT["search_help"],
                                 label_visibility="collapsed")
button_column.button(TEXT["new_call"], key="new-call", on_click=_new_call, shortcut=NEW_CALL_KEY,
                     icon=":material/call:", help=TEXT["new_call_help"], width="stretch")
# The box takes the focus when the page opens and after "New call", so the agent types at once.
# Streamlit runs the script again only when its text changes: on a new call, not on every rerun,
# so it never takes the focus from an element the agent is using.
# ↓ in the box moves to the list of matches, when there is one: arrows and Enter pick the caller.
FOCUS_SCRIPT = """<script>/* call %(call)s */
(function focusSearch(tries) {
  const box = document.querySelector('input[aria-label="%(search)s"]');
  if (!box) { if (tries < 100) setTimeout(() => focusSearch(tries + 1), 50); return; }
  setTimeout(() => box.focus(), 100);  // after a closing menu or popover hands the focus back
  if (window.crmSearchKeys) return;
  window.crmSearchKeys = true;
  document.addEventListener("keydown", (event) => {
    // Streamlit ignores a button's shortcut typed in a text box; the next call starts from anywhere.
    if (event.key === "%(new_call_key)s" && event.target.closest("input, textarea, select")) {
      const newCall = document.querySelector(".st-key-new-call button");
      if (!newCall) return;
      event.preventDefault();
      if (event.target.matches('input[aria-label="%(search)s"]')) {  // text typed but not yet sent goes too
        const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set;
        setValue.call(event.target, "");
        event.target.dispatchEvent(new Event("input", {bubbles: true}));
      }
      newCall.click();
      return;
    }
    if (event.key !== "ArrowDown" || !event.target.matches('input[aria-label="%(search)s"]')) return;
    const picker = document.querySelector('input[aria-label="%(pick)s"]');
    if (!picker) return;
    event.preventDefault();
    picker.focus();
    picker.dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowDown", code: "ArrowDown", bubbles: true}));
  }, true);
})(0);</script>"""
st.html(FOCUS_SCRIPT % {"call": st.session_state.get("call_number", 0), "search": TEXT["search"], "pick": TEXT["pick"],
                        "new_call_key": NEW_CALL_KEY}, unsafe_allow_javascript=True)


def _pick(result: queries.SearchResult, key: str, caption: str) -> int | None:
    """Several plausible matches: the agent picks the caller from a keyboard-operable list beside
    the table that tells them apart; nothing is opened (or audited as viewed) before that."""
    table = queries.namesake_table(result.matches)
    ids = table["customer_id"].to_list()
    labels = {row["customer_id"]: queries.match_label(row) for row in table.iter_rows(named=True)}
    st.caption(caption)
    left, right = st.columns([2, 3])
    picked = left.selectbox(TEXT["pick"], ids, index=None, format_func=labels.get, key=key,
                            placeholder=TEXT["pick_placeholder"])
    if picked is not None:  # in the address too: a refresh mid-call comes back to this customer
        st.query_params["customer"] = str(picked)
    if picked is None:
        shown = table.with_columns(pl.col("born").cast(pl.String).fill_null("—"), pl.col("city").fill_null("—"),
                                   pl.col("last_contact_at").dt.strftime("%d.%m.%Y").fill_null("never"))
        right.dataframe(shown, hide_index=True, width="stretch", column_config={
            "customer_id": st.column_config.NumberColumn("Customer", format="%d"),
            "full_name": "Name", "city": "City", "born": "Born",
            "phone_ends": "Phone ends", "last_contact_at": st.column_config.TextColumn(
                "Last contact", help=GLOSSARY["last_contact"])})
    return picked


def _open_or_pick(result: queries.SearchResult, key: str, several: str | None = None) -> int | None:
    if (single := result.to_open) is not None:
        return single
    if result.guessed:
        caption = TEXT["guessed"].format(total=result.total)
    else:
        shown = f", the first {result.matches.height:,} listed" if result.total > result.matches.height else ""
        caption = (several or TEXT["pick_caption"]).format(total=result.total, shown=shown)
    return _pick(result, key, caption)


def _resolve_customer() -> int | None:
    """Which customer to show: a search, a click on a recent customer, or a deep link."""
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
        session.record_when_changed("customer-search", query, "search", page="customer",
                                    customer_ids=result.matches["customer_id"].to_list(), query=query,
                                    kind=result.kind, matches=result.total)
        return _open_or_pick(result, f"pick-{query}")
    if (chosen := st.session_state.get("chosen_customer")) is not None:
        return chosen
    params = st.query_params
    if "customer" in params:
        raw = params["customer"]
        if raw.isdigit():
            return int(raw)
        st.error(f"“{ui.plain(raw[:40])}” in the link is not a customer number.")
        return None
    if "phone" in params:
        phone = params["phone"]
        result = queries.search_customers(db, phone)
        if result.kind != "phone" or result.message:
            st.error(f"“{ui.plain(phone[:40])}” in the link is not a phone number.")
            return None
        if result.matches.is_empty():
            st.info(f"No customer has the phone number {ui.plain(phone[:40])}.")
            return None
        session.record_when_changed("customer-search", phone, "search", page="customer",
                                    customer_ids=result.matches["customer_id"].to_list(), query=phone,
                                    kind="phone link", matches=result.total)
        return _open_or_pick(result, f"pick-link-{phone}", TEXT["shared_phone"])
    return None


def _verify(customer_id: int, how: list[str]) -> None:
    session.record("caller_verified", page="customer", customer_ids=[customer_id], how=how)
    verified = st.session_state.setdefault("verified", {})
    verified[customer_id] = (how, datetime.now(views.LOCAL_ZONE).strftime("%H:%M"))


def _show_verification(customer_id: int) -> None:
    done = st.session_state.get("verified", {}).get(customer_id)
    if done:
        how, at = done
        st.badge(TEXT["verified"].format(at=at, how=", ".join(VERIFY_METHODS[h].lower() for h in how)),
                 color="green", icon=":material/verified_user:")
        return
    with st.popover(TEXT["verify"], icon=":material/how_to_reg:", width="stretch"):
        st.caption(TEXT["not_verified"])
        # Pills: one click each, and no drop-down left open over the button below.
        how = st.pills(TEXT["verify_how"], list(VERIFY_METHODS), format_func=VERIFY_METHODS.get,
                       selection_mode="multi", key=f"verify-how-{customer_id}") or []
        st.button(TEXT["verify_done"], type="primary", key=f"verify-{customer_id}", disabled=not how,
                  on_click=_verify, args=(customer_id, how), icon=":material/verified_user:")


def _show_header(record: views.CustomerRecord) -> None:
    """The name, who the caller should be (to verify them), and what the company may do with them."""
    profile = record.profile
    name_column, verify_column = st.columns([2, 1], vertical_alignment="center")
    name_column.header(ui.plain(profile["full_name"]), anchor=False)
    with verify_column:
        _show_verification(record.customer_id)
    who = views.identity(profile, now)
    channel = profile["preferred_channel"]
    st.markdown(" · ".join([f":material/call: **{ui.plain(who.phone)}**", f":material/mail: {ui.plain(who.email)}",
                            f":material/cake: {ui.plain(who.born)}", f":material/location_on: {ui.plain(who.city)}",
                            f"\\#{profile['customer_id']}", ui.plain(views.tenure(profile["signup_date"], now)),
                            f"prefers {ui.plain(CHANNEL_TITLES.get(channel, channel or '—'))} "
                            f"({ui.plain(profile['language'] or '—')})"]))
    _show_consent(profile)


def _show_consent(profile: dict) -> None:
    """Consent per channel, İYS refusals and do-not-contact, as one line of badges."""
    with st.container(horizontal=True, gap="small"):
        if profile["do_not_contact"]:
            st.badge(TEXT["dnc"], color="red", icon=":material/block:", help=TEXT["dnc_help"])
        for label, key in (("E-mail", "consent_email"), ("SMS", "consent_sms"), ("Phone", "consent_phone")):
            given = profile[key]
            st.badge(f"{label} consent: {'yes' if given else 'no'}", color="green" if given else "gray",
                     icon=":material/check:" if given else ":material/close:")
        if refused := profile.get("iys_refused"):
            channels = ", ".join(CHANNEL_TITLES.get(c, c) for c in refused)
            st.badge(f"İYS refused: {channels}", color="orange", icon=":material/do_not_disturb_on:",
                     help=IYS_REFUSED.format(channels=channels))
        st.badge(profile["rfm_segment"], color="blue", icon=":material/groups:", help=GLOSSARY["rfm_segment"])
        tier = profile["loyalty_tier"]
        st.badge(f"{tier} tier" if tier else "no tier", color="violet" if tier else "gray",
                 icon=":material/workspace_premium:", help=GLOSSARY["loyalty_tier"])


def _show_alerts(record: views.CustomerRecord) -> None:
    found = views.alerts(record, now)
    show = {"error": st.error, "warning": st.warning, "info": st.info}
    for alert in found:
        show[alert.level](f"**{ui.plain(alert.cited)}** · {ui.plain(alert.text)}", icon=ALERT_ICONS[alert.level])
    if opening := views.opening_line(found):
        st.markdown(f":material/record_voice_over: **{TEXT['opening']}:** “{ui.plain(opening)}”")
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
        st.markdown(f"**{TEXT['talking']}**")
        st.markdown("\n".join(f"- {ui.plain(p.text)} · _{ui.plain(p.cited)}_" for p in points))


def _show_value_and_churn(profile: dict) -> None:
    """Value, prediction, churn risk and orders, two by two, beside the alerts."""
    top, bottom = st.columns(2), st.columns(2)
    rank = views.value_rank(profile)
    top[0].metric("Value so far", ui.money(profile["net_revenue_try"]), delta=rank, delta_color="off",
                  delta_arrow="off", help=GLOSSARY["net_revenue"] + " Rank: " + GLOSSARY["value_rank"])
    expected = profile["expected_purchases_12m"]
    top[1].metric("Predicted 12 months", ui.money(profile["predicted_clv_12m"]),
                  delta=f"{expected:.1f} purchases" if expected is not None else None, delta_color="off",
                  delta_arrow="off", help=GLOSSARY["predicted_clv_12m"] + " " + GLOSSARY["expected_purchases_12m"])
    band = profile["churn_risk_band"]
    reasons = "; ".join(profile["churn_risk_reasons"] or [])
    bottom[0].metric("Churn risk", f"{band} ({profile['churn_risk']:.0%})" if band else "—",
                     delta=reasons or None, delta_color="off", delta_arrow="off", help=GLOSSARY["churn_risk"])
    average = profile["average_order_value_try"]
    bottom[1].metric("Orders", f"{profile['orders']:,}", delta=f"avg {ui.money(average)}" if average else None,
                     delta_color="off", delta_arrow="off",
                     help=GLOSSARY["orders"] + " Avg: " + GLOSSARY["average_order_value"])


LATEST_CHARS = 44  # one line each in the half-width column at 1280 px: the full text is in the timeline


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _show_latest(record: views.CustomerRecord) -> None:
    st.markdown(f"**{TEXT['latest']}**")
    events = views.latest_events(record)
    if events.is_empty():
        st.caption(TEXT["no_events"])
        return
    lines = [f"{e['happened_at']:%d.%m.%y} {CHANNEL_ICONS.get(e['channel'], '•')} "
             f"{ui.plain(_clip(e['summary'] + (' — ' + e['detail'] if e['detail'] else ''), LATEST_CHARS))}"
             for e in events.iter_rows(named=True)]
    st.markdown("  \n".join(lines))  # hard line breaks: one event a line, no list indent


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
    _remember_opened(customer_id)
    st.set_page_config(page_title=f"{record.profile['full_name']} · {PAGE_TITLE}")
    _show_header(record)
    left, right = st.columns([1, 1], gap="medium")
    with left:
        _show_alerts(record)
        _show_talking_points(record)
    with right:
        _show_value_and_churn(record.profile)
        _show_latest(record)
    # Only the open tab is computed and sent: a lookup draws one section, not five (two of them
    # charts), which keeps the browser's work per lookup small.
    tabs = st.tabs(list(SECTIONS), key="profile-section", on_change="rerun")
    for tab, show in zip(tabs, SECTIONS.values(), strict=True):
        if tab.open:
            with tab:
                show(record)


def _remember_opened(customer_id: int) -> None:
    """This session's opened customers, newest first: the audit log has them too, but its entries
    are written a moment later, by a background thread."""
    opened = st.session_state.setdefault("opened_customers", [])
    if not opened or opened[0] != customer_id:
        st.session_state["opened_customers"] = [customer_id, *(c for c in opened if c != customer_id)]


def _show_recent(current: int | None) -> None:
    """Recently opened customers, one click each: this session's and, from the audit log, the ones
    this agent opened before a refresh or in another tab."""
    try:
        logged = queries.recently_opened(session.audit_log(), user.user_name, RECENT_COUNT)
    except (OSError, sqlite3.Error):  # the audit log cannot be read: this session's list still helps
        logged = []
    ids = [c for c in dict.fromkeys([*st.session_state.get("opened_customers", []), *logged]) if c != current]
    names = queries.names_of(db, ids[:RECENT_COUNT])
    if not names:
        return
    with st.sidebar:
        st.caption(TEXT["recent"])
        for customer_id in ids[:RECENT_COUNT]:
            if customer_id in names:
                st.button(f"{names[customer_id]} #{customer_id}", key=f"recent-{customer_id}", type="tertiary",
                          icon=":material/history:", on_click=_open_customer, args=(customer_id,))


# The profile's sections below the first screen; each is drawn only when its tab is open.
def _show_wrapup(record: views.CustomerRecord) -> None:
    wrapup_view.show_wrapup(db, record, user)


# The wrap-up is second: every call ends in it, and the timeline it adds to stays the first view.
SECTIONS = {"Timeline": _show_timeline, "Wrap-up": _show_wrapup, "Purchases": _show_purchases,
            "Complaints": _show_complaints, "Contacts by channel": _show_channels, "Satisfaction": _show_satisfaction}

st.set_page_config(page_title=PAGE_TITLE)
selected = _resolve_customer()
if selected is not None:
    _show_profile(selected)
elif not query and not st.query_params:
    st.info(TEXT["start"], icon=":material/call_received:")
_show_recent(selected)
