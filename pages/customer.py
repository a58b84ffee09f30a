"""Customer lookup, for an agent on a live call. URL: /customer?customer=<id> or ?phone=<number>."""
import polars as pl
import streamlit as st

from crm360 import ui
from crm360.glossary import GLOSSARY
from crm360.queries import customer as queries
from crm360.textnorm import mask_phone

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


def _show_matches(matches: pl.DataFrame, chosen: int) -> None:
    if matches.height <= 1:
        return
    st.caption(f"{matches.height} matches, most recently in touch first. Showing the top one.")
    for row in matches.head(10).iter_rows(named=True):
        cols = st.columns([3, 2, 2, 2, 1])
        marker = "▶ " if row["customer_id"] == chosen else ""
        cols[0].text(f"{marker}{row['full_name']}  ·  #{row['customer_id']}")
        cols[1].text(row["city"] or "—")
        cols[2].text(mask_phone(row["phone"]))
        last = row["last_contact_at"]
        cols[3].text(f"last contact {last:%d.%m.%Y}" if last else "no contact yet")
        cols[4].button("Open", key=f"open-{row['customer_id']}", on_click=_choose,
                       args=(row["customer_id"],))


def _resolve_customer() -> int | None:
    """Which customer to show: a click, a search, or a deep link, in that order."""
    chosen = st.session_state.get("chosen_customer")
    if query:
        result = queries.search_customers(db, query)
        if result.message:
            st.warning(result.message)
            return None
        if result.matches.is_empty():
            st.info(f"No customer matches “{query[:80]}”. Check the spelling or try the phone "
                    "number or e-mail.")
            return None
        ids = result.matches["customer_id"].to_list()
        chosen = chosen if chosen in ids else ids[0]
        _show_matches(result.matches, chosen)
        return chosen
    if chosen is not None:
        return chosen
    params = st.query_params
    if "customer" in params:
        raw = params["customer"]
        if raw.isdigit():
            return int(raw)
        st.error(f"“{raw[:40]}” in the link is not a customer number.")
        return None
    if "phone" in params:
        result = queries.search_customers(db, params["phone"])
        if result.kind != "phone" or result.message:
            st.error(f"“{params['phone'][:40]}” in the link is not a phone number.")
            return None
        if result.matches.is_empty():
            st.info(f"No customer has the phone number {params['phone'][:40]}.")
            return None
        ids = result.matches["customer_id"].to_list()
        _show_matches(result.matches, ids[0])
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


def _show_profile(customer_id: int) -> None:
    profile = queries.customer_profile(db, customer_id)
    if profile is None:
        st.error(f"There is no customer #{customer_id}.")
        return
    st.header(ui.plain(profile["full_name"]), anchor=False)
    tenure_days = (now.date() - profile["signup_date"]).days if profile["signup_date"] else None
    st.text(f"#{profile['customer_id']} · {profile['city'] or 'city unknown'} · "
            f"customer for {tenure_days // 30 if tenure_days is not None else '?'} months · "
            f"prefers {profile['preferred_channel'] or '—'} · language "
            f"{profile['language'] or '—'}")
    if profile["do_not_contact"]:
        st.error("DO NOT CONTACT — the customer asked not to be contacted for marketing or "
                 "outreach. Serve this call; do not offer campaigns.", icon=":material/block:")
    _show_consent(profile)

    complaints = queries.open_complaints(db, customer_id, now)
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

    cols = st.columns(5)
    cols[0].metric("Net revenue", ui.money(profile["net_revenue_try"]),
                   help=GLOSSARY["net_revenue"])
    cols[1].metric("Orders", f"{profile['orders']:,}", help=GLOSSARY["orders"])
    cols[2].metric("Avg order", ui.money(profile["average_order_value_try"]),
                   help=GLOSSARY["average_order_value"])
    cols[3].metric("Open complaints", profile["open_complaints"],
                   help=GLOSSARY["open_complaints"])
    last = profile["last_contact_at"]
    cols[4].metric("Last contact", f"{last:%d.%m.%Y}" if last else "—",
                   help=GLOSSARY["last_contact"])

    st.subheader("Recent history", anchor=False)
    history = queries.recent_history(db, customer_id, limit=50)
    if history.is_empty():
        st.info("No contacts, orders, complaints or survey answers yet.")
    else:
        st.dataframe(history, hide_index=True, width="stretch",
                     column_config={"happened_at": st.column_config.DatetimeColumn("When",
                                                                          format="DD.MM.YYYY HH:mm")})


selected = _resolve_customer()
if selected is not None:
    _show_profile(selected)
elif not query and not st.query_params:
    st.info("Type what the caller gives you: a name, a phone number, an e-mail address or a "
            "customer number, and press Enter.")
