"""Every page renders real figures from a small seeded database, and says what to do without one."""
from datetime import timedelta

import pytest
from streamlit.testing.v1 import AppTest

from crm360 import segments, ui
from tests.shown import as_shown

APP = "../dashboard.py"


@pytest.fixture
def app(small_db_path, monkeypatch):
    monkeypatch.setenv("CRM_DB", str(small_db_path))
    return AppTest.from_file(APP, default_timeout=60)


def _open(app: AppTest, page: str, **params: str) -> AppTest:
    for key, value in params.items():
        app.query_params[key] = value
    app.run()
    if page:
        app.switch_page(page)
        app.run()
    assert not app.exception, app.exception
    return app


def _param(app: AppTest, key: str) -> list[str]:
    """A URL parameter's values, whether the app set one or several."""
    value = app.query_params[key]
    return value if isinstance(value, list) else [value]


def _text(app: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "text", "header", "title", "warning", "error", "info",
                                  "success") for e in getattr(app, kind)]
    return "\n".join(str(p) for p in parts)


def test_overview_shows_counts_from_the_database(app, small_db):
    _open(app, "")
    customers = small_db.row("SELECT count(*) FROM customers")[0]
    assert app.metric[0].value == f"{customers:,}"


def test_customer_page_search_box_first_and_a_search_opens_the_profile(app, small_db):
    name, customer_id = small_db.row(
        "SELECT full_name, customer_id FROM customer_summary WHERE orders > 2 ORDER BY customer_id LIMIT 1")
    _open(app, "pages/customer.py")
    app.text_input[0].input(str(customer_id)).run()
    assert not app.exception
    assert app.header[0].value.replace("\\", "") == name
    assert any(m.label == "Value so far" for m in app.metric)
    assert app.dataframe, "recent history table"
    segment, clv = small_db.row("SELECT rfm_segment, predicted_clv_12m FROM customer_summary WHERE customer_id = ?",
                                [customer_id])
    predicted = next(m for m in app.metric if m.label == "Predicted 12 months")
    assert predicted.value == ui.money(clv)
    assert any(m.value.startswith(":blue-badge[") and m.value.endswith(f" {segment}]") for m in app.markdown)
    assert any(m.label == "Churn risk" for m in app.metric)


def test_customer_deep_link_opens_the_profile(app, small_db):
    name, customer_id = small_db.row("SELECT full_name, customer_id FROM customers ORDER BY customer_id LIMIT 1")
    _open(app, "pages/customer.py", customer=str(customer_id))
    assert app.header[0].value.replace("\\", "") == name


def _audited(action: str) -> list:
    from crm360 import audit, session

    session.flush_audit()
    return audit.AuditLog(audit.store_path()).search(action=action)


def _namesakes(small_db) -> tuple[str, list[int]]:
    """A full name several customers share, and their numbers."""
    from crm360.queries import customer as queries

    names = small_db.frame("SELECT full_name FROM customers GROUP BY full_name HAVING count(*) > 1 "
                           "ORDER BY full_name")["full_name"].to_list()
    name = next(n for n in names if queries.search_customers(small_db, n).total > 1)
    return name, small_db.frame("SELECT customer_id FROM customers WHERE full_name = ? ORDER BY customer_id",
                                [name])["customer_id"].to_list()


def test_a_search_with_several_matches_opens_nobody_until_the_agent_picks(app, small_db):
    name, holders = _namesakes(small_db)
    _open(app, "pages/customer.py")
    app.text_input[0].input(name).run()
    assert not app.exception
    assert not app.header, "nothing opened"
    assert "nothing is opened until you pick one" in _text(app)
    assert _audited("profile_view") == []
    [search] = _audited("search")
    assert search.detail["query"] == name and search.detail["matches"] >= len(holders)
    picker = app.selectbox(key=f"pick-{name}")
    table = app.dataframe[0].value
    assert {"city", "born", "phone_ends", "last_contact_at"} <= set(table.columns)
    assert set(holders) <= set(table["customer_id"])
    picker.set_value(holders[1]).run()
    assert app.header[0].value.replace("\\", "") == name
    assert app.query_params["customer"] == str(holders[1])  # a refresh mid-call comes back to them
    assert [e.detail for e in _audited("profile_view")] == [{}]
    assert [entry.customers for entry in _audited("profile_view")] == [1]
    from crm360 import audit
    log = audit.AuditLog(audit.store_path())
    assert log.customers_of(_audited("profile_view")[0].entry_id) == [holders[1]]


def test_an_exact_customer_number_opens_at_once_and_is_audited_as_viewed(app, small_db):
    name, customer_id = small_db.row("SELECT full_name, customer_id FROM customers ORDER BY customer_id DESC LIMIT 1")
    _open(app, "pages/customer.py")
    app.text_input[0].input(str(customer_id)).run()
    assert app.header[0].value.replace("\\", "") == name
    [view] = _audited("profile_view")
    from crm360 import audit
    assert audit.AuditLog(audit.store_path()).customers_of(view.entry_id) == [customer_id]


def test_a_screen_pop_for_a_shared_phone_opens_nobody_until_the_agent_picks(tmp_path, monkeypatch):
    from tests.conftest import load_dir
    from tests.rawfiles import write_raw

    shared = [{"customer_id": 1_000_001 + i, "full_name": name, "phone": "0532 123 45 67", "city": city}
              for i, (name, city) in enumerate((("Ayşe Kaya", "İzmir"), ("Ali Kaya", "Ankara")))]
    load_dir(write_raw(tmp_path / "raw", customers=shared), tmp_path)
    monkeypatch.setenv("CRM_DB", str(tmp_path / "db" / "crm.duckdb"))
    app = _open(AppTest.from_file(APP, default_timeout=60), "pages/customer.py", phone="05321234567")
    assert not app.header and "2 customers share this number" in _text(app)
    assert _audited("profile_view") == [] and len(_audited("search")) == 1
    app.selectbox(key="pick-link-05321234567").set_value(1_000_002).run()
    assert app.header[0].value == "Ali Kaya"
    assert len(_audited("profile_view")) == 1


def test_the_identity_strip_and_a_verified_caller_recorded_with_how(app, small_db):
    customer_id, phone, email, born, city = small_db.row(
        """SELECT customer_id, phone, email, birth_date, city FROM customers WHERE phone LIKE '+90%'
           AND email IS NOT NULL AND birth_date IS NOT NULL AND city IS NOT NULL ORDER BY customer_id LIMIT 1""")
    _open(app, "pages/customer.py", customer=str(customer_id))
    strip = next(m.value for m in app.markdown if ":material/call:" in m.value).replace("\\", "")
    national = f"0{phone[3:6]} {phone[6:9]} {phone[9:11]} {phone[11:]}"
    assert national in strip and email in strip.replace("\u2060", "") and f"{born:%d.%m.%Y} (age " in strip
    assert city in strip
    assert "Verified " not in _text(app)
    app.button_group(key=f"verify-how-{customer_id}").set_value(["phone", "birth_date"]).run()
    app.button(key=f"verify-{customer_id}").click().run()
    assert any("Verified " in m.value and ": phone number, birth date" in m.value for m in app.markdown)
    [entry] = _audited("caller_verified")
    assert entry.detail == {"how": ["phone", "birth_date"]} and entry.page == "customer"
    from crm360 import audit
    assert audit.AuditLog(audit.store_path()).customers_of(entry.entry_id) == [customer_id]
    app.button(key="new-call").click().run()  # the next call starts unverified, with an empty box
    assert app.text_input[0].value == "" and not app.header


def test_recently_opened_customers_are_one_click_away_even_after_a_refresh(app, small_db, small_db_path):
    first, second = small_db.frame("SELECT customer_id, full_name FROM customers ORDER BY customer_id LIMIT 2").rows()
    _open(app, "pages/customer.py", customer=str(first[0]))
    from crm360 import session

    session.flush_audit()
    fresh = AppTest.from_file(APP, default_timeout=60)  # a refresh: a new session, the audit log remembers
    _open(fresh, "pages/customer.py", customer=str(second[0]))
    fresh.button(key=f"recent-{first[0]}").click().run()
    assert fresh.header[0].value.replace("\\", "") == first[1]


def test_customer_deep_link_by_phone(app, small_db):
    phone, customer_id = small_db.row("""SELECT phone, min(customer_id) FROM customers WHERE phone IS NOT NULL
                                         GROUP BY phone HAVING count(*) = 1 ORDER BY phone LIMIT 1""")
    national = "0" + phone[3:6] + " " + phone[6:9] + " " + phone[9:]
    _open(app, "pages/customer.py", phone=national)
    assert str(customer_id) in _text(app)


@pytest.mark.parametrize("typed", ["nobody at all here", "x" * 10_000, "<script>alert(1)</script>",
                                   "'; DROP TABLE customers; --"])
def test_customer_page_bad_input_shows_a_message(app, typed):
    _open(app, "pages/customer.py")
    app.text_input[0].input(typed).run()
    assert not app.exception
    assert app.warning or app.info


def test_unknown_customer_in_link_says_so(app):
    _open(app, "pages/customer.py", customer="999")
    assert "There is no customer #999" in _text(app)


def test_outreach_lists_complaints_past_the_promise(app, small_db):
    _open(app, "pages/outreach.py")
    labels = {m.label: m.value for m in app.metric}
    assert "Overdue, to call" in labels
    assert int(labels["All overdue"].replace(",", "")) >= int(labels["Overdue, to call"].replace(",", ""))


def test_trends_shows_every_tile_with_its_change_and_definition(app):
    from crm360 import trend_view
    from crm360.glossary import GLOSSARY

    _open(app, "pages/trends.py")
    tiles = {m.label: m for m in app.metric}
    assert list(tiles) == [tile.label for tile in trend_view.TILES]
    assert tiles["Net revenue"].value.startswith("₺") and tiles["Net revenue"].delta.endswith("%")
    assert tiles["Answered within 24 h"].delta.endswith("pts")
    assert GLOSSARY["retention_rate"] in tiles["Retention rate"].help
    assert _param(app, "period") == ["last_12_months"] and _param(app, "grain") == ["month"]


@pytest.mark.parametrize("section", ["Revenue", "Complaints", "Service times", "Cohorts", "Segments and tiers",
                                     "Channels", "Team"])
def test_each_trends_section_draws_its_charts_and_offers_their_data(app, section):
    app.session_state["trend-section"] = section
    _open(app, "pages/trends.py")
    assert app.get("plotly_chart") or app.dataframe
    assert any(b.proto.label.startswith("Download") for b in app.get("download_button"))


def test_a_trends_link_reproduces_the_view_and_filters_stay_in_the_url(app, small_db):
    city = small_db.row("SELECT city FROM customer_summary GROUP BY city ORDER BY count(*) DESC LIMIT 1")[0]
    _open(app, "pages/trends.py", period="last_90_days", grain="week", city=city, channel="phone")
    assert app.selectbox(key="trend-preset").value == "last_90_days"
    assert app.multiselect(key="trend-cities").value == [city]
    assert app.multiselect(key="trend-channels").value == ["phone"]
    app.multiselect(key="trend-tiers").set_value(["Gold"]).run()
    assert not app.exception
    assert _param(app, "tier") == ["Gold"] and _param(app, "city") == [city]
    assert _param(app, "period") == ["last_90_days"] and _param(app, "grain") == ["week"]


def test_a_trends_view_with_no_activity_says_so(app):
    _open(app, "pages/trends.py", start="2000-01-01", end="2000-01-31")
    _open(app, "pages/trends.py", city="Atlantis", start="1990-01-01", end="1990-02-01")
    assert not app.exception
    app.multiselect(key="trend-segments").set_value(["Champions"]).run()
    app.multiselect(key="trend-tiers").set_value(["No tier"]).run()  # Champions all have a tier
    assert not app.exception
    assert any("No orders and no complaints" in i.value for i in app.info)


def test_data_health_shows_runs_and_reconciliation(app):
    _open(app, "pages/data-health.py")
    assert any("reconciles" in s.value for s in app.success)
    assert not app.error  # the seeded company's files all load
    assert any(b.proto.label.startswith("Download the quarantine") for b in app.get("download_button"))


def test_data_health_opens_on_a_database_loaded_by_an_earlier_release(tmp_path, monkeypatch):
    import duckdb

    from crm360.store import current_version
    from tests.conftest import load_dir
    from tests.rawfiles import write_raw

    load_dir(write_raw(tmp_path / "raw", customers=[{"customer_id": 1_000_001}]), tmp_path)
    with duckdb.connect(str(current_version(tmp_path / "db" / "crm.duckdb"))) as con:
        con.execute("ALTER TABLE etl_runs DROP COLUMN read_notes")
        con.execute("ALTER TABLE etl_runs DROP COLUMN failure")
    monkeypatch.setenv("CRM_DB", str(tmp_path / "db" / "crm.duckdb"))
    app = _open(AppTest.from_file(APP, default_timeout=60), "pages/data-health.py")
    assert any("reconciles" in s.value for s in app.success)


def test_a_page_whose_tables_an_older_load_lacks_says_to_load_again(tmp_path, monkeypatch):
    import duckdb

    from crm360.store import current_version
    from tests.conftest import load_dir
    from tests.rawfiles import write_raw

    load_dir(write_raw(tmp_path / "raw", customers=[{"customer_id": 1_000_001}],
                       purchases=[{"order_id": 1, "customer_id": 1_000_001}]), tmp_path)
    with duckdb.connect(str(current_version(tmp_path / "db" / "crm.duckdb"))) as con:
        con.execute("DROP TABLE trend_orders")
    monkeypatch.setenv("CRM_DB", str(tmp_path / "db" / "crm.duckdb"))
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    app.switch_page("pages/trends.py").run()
    assert not app.exception and any("loaded by an earlier release" in w.value for w in app.warning)


def test_data_health_names_a_file_that_failed_and_what_was_kept(tmp_path, monkeypatch):
    from tests.conftest import load_dir
    from tests.rawfiles import write_raw

    raw = write_raw(tmp_path / "raw", customers=[{"customer_id": 1_000_001}])
    (raw / "complaints.csv").write_bytes(b"")
    load_dir(raw, tmp_path)
    monkeypatch.setenv("CRM_DB", str(tmp_path / "db" / "crm.duckdb"))
    app = _open(AppTest.from_file(APP, default_timeout=60), "pages/data-health.py")
    shown = [as_shown(e.value) for e in app.error]  # the failure is data: escaped as markdown
    assert any("Not loaded: complaints.csv: file is empty" in e and "no earlier load" in e for e in shown), shown


def test_segment_page_shows_every_segment_with_size_value_and_flow(app, small_db):
    _open(app, "pages/segments.py")
    table = app.dataframe[0].value
    assert set(table["segment"]) == {s.name for s in segments.RFM_SEGMENTS} | {segments.PROSPECTS}
    assert table["customers"].sum() == small_db.row("SELECT count(*) FROM customers")[0]
    assert any("stayed in their segment" in c.value for c in app.caption)  # the flow between two dates
    app.selectbox[0].select("Cannot Lose Them").run()
    assert not app.exception
    members = app.dataframe[-1].value
    assert len(members) == small_db.row(  # do-not-contact customers are counted above, not listed
        "SELECT least(count(*), 500) FROM customer_summary WHERE rfm_segment = 'Cannot Lose Them' "
        "AND NOT do_not_contact")[0]


def test_model_page_shows_the_fits_and_the_holdout_check(app, small_db):
    _open(app, "pages/model.py")
    text = _text(app)
    assert "BG/NBD (purchases)" in text and "converged" in text and "r = " in text
    labels = {m.label: m.value for m in app.metric}
    actual = small_db.row("SELECT max(actual_cumulative) FROM model_backtest_weekly")[0]
    assert labels["Actual repeat purchases"] == f"{actual:,.0f}"
    assert len(app.get("plotly_chart")) == 2


@pytest.mark.parametrize("page", ["", "pages/customer.py", "pages/outreach.py", "pages/trends.py",
                                  "pages/data-health.py", "pages/segments.py", "pages/model.py",
                                  "pages/campaigns.py"])
def test_without_a_database_every_page_explains_how_to_create_one(tmp_path, monkeypatch, page):
    monkeypatch.setenv("CRM_DB", str(tmp_path / "missing.duckdb"))
    app = AppTest.from_file(APP, default_timeout=30)
    _open(app, page)
    assert "No database" in _text(app) and "make demo" in _text(app)


def test_an_empty_database_file_explains_instead_of_crashing(tmp_path, monkeypatch):
    import duckdb

    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    monkeypatch.setenv("CRM_DB", str(empty))
    app = AppTest.from_file(APP, default_timeout=30)
    _open(app, "pages/customer.py")
    assert "not a loaded CRM database" in _text(app) and "make demo" in _text(app)


def test_customer_timeline_filters_and_paging_rerun_without_errors(app, small_db):
    customer_id = small_db.row("SELECT customer_id FROM customer_summary ORDER BY contacts DESC LIMIT 1")[0]
    _open(app, "pages/customer.py", customer=str(customer_id))
    assert [t.label for t in app.tabs] == ["Timeline", "Wrap-up", "Purchases", "Complaints", "Contacts by channel",
                                            "Satisfaction"]
    assert any("newest first" in c.value for c in app.caption)
    app.number_input[0].set_value(2).run()
    assert not app.exception
    assert any(c.value.startswith("Events 51-") for c in app.caption)
    app.multiselect(key=f"kinds-{customer_id}").set_value(["complaint"]).run()
    assert not app.exception
    app.multiselect(key=f"channels-{customer_id}").set_value(["phone"]).run()
    assert not app.exception


@pytest.mark.parametrize(("section", "shows"), [("Purchases", "Completed orders"), ("Complaints", None),
                                                ("Contacts by channel", None), ("Satisfaction", None)])
def test_each_profile_section_renders_only_when_opened(app, small_db, section, shows):
    customer_id = small_db.row("""SELECT customer_id FROM customer_summary WHERE orders > 2 AND complaints > 0
                                  ORDER BY customer_id LIMIT 1""")[0]
    _open(app, "pages/customer.py", customer=str(customer_id))
    assert not any(m.label == "Completed orders" for m in app.metric)  # the timeline is open, not purchases
    app.session_state["profile-section"] = section
    app.run()
    assert not app.exception
    assert not any(c.value.startswith("Events 1-") for c in app.caption)  # the timeline is not drawn now
    if shows:
        assert any(m.label == shows for m in app.metric)
    else:
        assert app.dataframe or app.get("plotly_chart") or app.info


def test_outreach_filters_count_and_export_the_candidates(app, small_db):
    _open(app, "pages/outreach.py")
    labels = {m.label: m.value for m in app.metric}
    assert labels["Customers to contact"] == f"{small_db.row('SELECT count(*) FROM outreach_candidates')[0]:,}"
    app.multiselect[0].select("birthday").run()
    assert not app.exception
    birthdays = small_db.row("SELECT count(*) FROM outreach_candidates WHERE list_contains(rules, 'birthday')")[0]
    assert {m.label: m.value for m in app.metric}["Customers to contact"] == f"{birthdays:,}"
    assert [b.proto.label for b in app.get("download_button")] == ["Download the list (CSV)",
                                                                   "Download the list (Excel)"]


def test_a_campaign_created_on_outreach_shows_on_campaigns_and_on_the_customer_page(app, small_db, tmp_path,
                                                                                  monkeypatch):
    monkeypatch.setenv("CRM_CAMPAIGNS", str(tmp_path / "campaigns.sqlite"))
    _open(app, "pages/outreach.py")
    app.multiselect[0].select("birthday").run()
    next(s for s in app.selectbox if s.label == "Channel").select("email").run()
    # A form sends its fields with the submit button: fill them, then click, in one run.
    app.text_input[0].input("Birthday wishes")
    app.text_input[1].input("Deniz")
    app.checkbox[0].uncheck()  # no control group: every listed customer is to be contacted
    next(b for b in app.button if b.label == "Create campaign").click().run()
    assert not app.exception
    assert any("saved with" in s.value for s in app.success), [e.value for e in app.error]
    # A campaign reaches only those who agreed to its channel (e-mail, as the page said before creating it).
    birthdays = small_db.frame("SELECT customer_id FROM outreach_candidates c JOIN marketing_consent m "
                               "USING (customer_id) WHERE list_contains(rules, 'birthday') AND m.consent_email "
                               "ORDER BY customer_id")
    app.switch_page("pages/campaigns.py").run()
    assert not app.exception
    assert app.dataframe[0].value["customers"].to_list() == [birthdays.height]
    assert any("no control group" in w.value for w in app.warning)
    app.switch_page("pages/customer.py")
    app.query_params["customer"] = str(birthdays["customer_id"][0])
    app.run()
    assert any("Birthday wishes" in i.value and "not contacted yet" in i.value for i in app.info)


def test_a_campaign_without_a_name_is_refused_on_the_page(app, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_CAMPAIGNS", str(tmp_path / "campaigns.sqlite"))
    _open(app, "pages/outreach.py")
    next(b for b in app.button if b.label == "Create campaign").click().run()
    assert not app.exception and any("needs a name" in e.value for e in app.error)


def test_customers_contacted_in_a_campaign_lately_are_held_back(app, small_db, tmp_path, monkeypatch):
    from datetime import date

    from crm360.campaigns import CampaignStore, NewCampaign

    monkeypatch.setenv("CRM_CAMPAIGNS", str(tmp_path / "campaigns.sqlite"))
    first = small_db.row("SELECT customer_id FROM outreach_candidates ORDER BY priority DESC LIMIT 1")[0]
    store = CampaignStore(tmp_path / "campaigns.sqlite")
    campaign_id = store.create(NewCampaign("Last week", "Deniz", "phone", date(2026, 6, 30), control_share=0),
                               [(first, "")])
    now = small_db.row("SELECT data_as_of FROM dataset_info")[0]
    store.mark_contacted(campaign_id, first, "reached", now - timedelta(days=3))
    _open(app, "pages/outreach.py")
    total = small_db.row("SELECT count(*) FROM outreach_candidates")[0]
    assert {m.label: m.value for m in app.metric}["Customers to contact"] == f"{total - 1:,}"
    assert any("held back" in c.value for c in app.caption)
    assert str(first) not in str(app.dataframe[0].value["profile"].to_list())


def test_the_campaigns_page_measures_the_list_against_its_control_group(app, small_db, tmp_path, monkeypatch):
    from crm360.campaigns import CampaignStore, NewCampaign

    monkeypatch.setenv("CRM_CAMPAIGNS", str(tmp_path / "campaigns.sqlite"))
    now = small_db.row("SELECT data_as_of FROM dataset_info")[0]
    buyers = small_db.frame("SELECT customer_id FROM customer_summary ORDER BY customer_id LIMIT 400")
    store = CampaignStore(tmp_path / "campaigns.sqlite")
    campaign_id = store.create(NewCampaign("Spring win-back", "Deniz", "email", now.date(), control_share=0.25),
                               [(c, "high_value_at_risk") for c in buyers["customer_id"]], seed=1,
                               when=now - timedelta(days=60))
    to_contact = [m["customer_id"] for m in store.members(campaign_id) if not m["control"]][:50]
    for customer_id in to_contact:
        store.mark_contacted(campaign_id, customer_id, "reached", now - timedelta(days=55))
    store.set_status(campaign_id, "finished")
    _open(app, "pages/campaigns.py")
    assert any(h.value == "Did it work?" for h in app.subheader)
    groups = app.dataframe[1].value
    assert dict(zip(groups["group"], groups["customers"], strict=True)) == {
        "Contacted": 50, "The whole list": sum(1 for m in store.members(campaign_id) if not m["control"]),
        "Control group": sum(1 for m in store.members(campaign_id) if m["control"])}
    shares = {m.label: m for m in app.metric}
    assert "vs control" in shares["Bought"].delta
    assert len(app.caption) and not app.exception


def test_names_from_the_data_show_as_typed_not_as_links_icons_or_emoji(tmp_path, monkeypatch):
    from tests.shown import HOSTILE_CAMPAIGN, HOSTILE_CUSTOMER_ID, HOSTILE_NAME, hostile_company, live_markup

    db_path, campaigns = hostile_company(tmp_path)
    monkeypatch.setenv("CRM_DB", str(db_path))
    monkeypatch.setenv("CRM_CAMPAIGNS", str(campaigns))
    app = _open(AppTest.from_file(APP, default_timeout=60), "pages/customer.py", customer=str(HOSTILE_CUSTOMER_ID))
    [header] = app.header
    assert as_shown(header.value) == HOSTILE_NAME and not live_markup(header.value), header.value
    [campaign] = [i.value for i in app.info if HOSTILE_CAMPAIGN in as_shown(i.value)]
    assert not live_markup(campaign), campaign


def test_a_user_name_that_reads_as_a_web_address_is_shown_as_text(app):
    from tests.shown import live_markup

    _open(app, "pages/users.py")
    for _ in range(2):  # added, then refused as a name taken: both messages name the user
        app.text_input[0].input("www.evil.example")
        next(b for b in app.button if b.label == "Add").click().run()
        assert not app.exception
        [shown] = [m.value for m in [*app.success, *app.error] if "www.evil.example" in as_shown(m.value)]
        assert not live_markup(shown), shown


def test_a_page_that_fails_shows_an_incident_id_and_logs_the_traceback(tmp_path, monkeypatch, caplog):
    import re

    import duckdb

    from crm360.store import current_version
    from tests.conftest import load_dir
    from tests.rawfiles import write_raw

    load_dir(write_raw(tmp_path / "raw", customers=[{"customer_id": 1_000_001}]), tmp_path)
    with duckdb.connect(str(current_version(tmp_path / "db" / "crm.duckdb"))) as con:
        con.execute("ALTER TABLE dataset_info DROP COLUMN survey_responses")  # the overview reads it
    monkeypatch.setenv("CRM_DB", str(tmp_path / "db" / "crm.duckdb"))
    app = _open(AppTest.from_file(APP, default_timeout=60), "")
    [message] = [e.value for e in app.error if "Incident" in e.value]
    incident = re.search(r"Incident ([0-9a-f]{8})", message).group(1)
    assert "Traceback" not in _text(app) and "survey_responses" not in _text(app)
    [logged] = [r for r in caplog.records if r.name == "crm360.incidents"]
    assert incident in logged.getMessage() and logged.exc_info[0] is KeyError


@pytest.mark.parametrize("page", ["", "pages/customer.py", "pages/users.py"])
def test_a_page_that_stops_or_reruns_on_purpose_is_no_incident(tmp_path, monkeypatch, page):
    monkeypatch.setenv("CRM_DB", str(tmp_path / "missing.duckdb"))  # every data page calls st.stop
    app = _open(AppTest.from_file(APP, default_timeout=30), page)
    if page == "pages/users.py":  # adding a user reruns the page to show the password
        app.text_input[0].input("elif")
        next(b for b in app.button if b.label == "Add").click().run()
        assert any("Password for elif" in s.value for s in app.success)
    assert "Incident" not in _text(app)
