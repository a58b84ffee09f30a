"""Who may see what: sign-in with hashed passwords and lockout, roles against pages and deep
links, consented contact details only, the append-only audit log, and hostile text in every
input of every page."""
from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from crm360 import access, export, masking
from crm360.access import AccessError, User, UserStore
from crm360.audit import AuditLog
from crm360.queries import outreach
from tests.conftest import sign_in_session
from tests.shown import as_shown, live_markup

ROOT = Path(__file__).resolve().parent.parent
APP = "../dashboard.py"
PAGE_FILES = {"": "pages/home.py", "customer": "pages/customer.py", "segments": "pages/segments.py",
              "model": "pages/model.py", "outreach": "pages/outreach.py", "campaigns": "pages/campaigns.py",
              "trends": "pages/trends.py", "data-health": "pages/data-health.py", "users": "pages/users.py",
              "audit": "pages/audit.py"}
PASSWORD = "correct horse battery staple"


@pytest.fixture
def signed_in_app(small_db_path, monkeypatch, tmp_path):
    """The app with sign-in on, over the small seeded company; returns a maker of AppTests
    signed in as a role."""
    monkeypatch.delenv("CRM_AUTH", raising=False)
    monkeypatch.setenv("CRM_DB", str(small_db_path))
    monkeypatch.setenv("CRM_CAMPAIGNS", str(tmp_path / "campaigns.sqlite"))
    monkeypatch.setenv("CRM_IDENTITY_DECISIONS", str(tmp_path / "decisions.sqlite"))

    def make(role: str | None) -> AppTest:
        app = AppTest.from_file(APP, default_timeout=60)
        if role is not None:
            sign_in_session(app, User(f"test-{role}", role))
        return app
    return make


def _audit() -> AuditLog:
    from crm360 import session

    session.flush_audit()  # the app writes its entries on a background thread
    return AuditLog()


# --- passwords and sign-in -------------------------------------------------------------------

def test_passwords_are_argon2id_hashes_and_never_stored_as_typed(tmp_path):
    store = UserStore(tmp_path / "u.sqlite")
    store.add("elif", "agent", PASSWORD)
    with sqlite3.connect(tmp_path / "u.sqlite") as con:
        [(stored,)] = con.execute("SELECT password_hash FROM users").fetchall()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert "m=65536" in stored  # memory-hard: 64 MiB per hash
    assert store.sign_in(" Elif ", PASSWORD) == User("elif", "agent")


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(tmp_path):
    store = UserStore(tmp_path / "u.sqlite")
    store.add("elif", "agent", PASSWORD)
    for name, password in (("elif", "wrong password!!"), ("nobody", PASSWORD), ("", ""), ("x" * 10_000, "y")):
        with pytest.raises(AccessError, match=r"^Wrong user name or password\.$"):
            store.sign_in(name, password)


def test_five_failures_lock_the_name_for_fifteen_minutes(tmp_path):
    store = UserStore(tmp_path / "u.sqlite")
    store.add("elif", "agent", PASSWORD)
    start = datetime(2026, 12, 1, 9, 0)
    for minute in range(access.MAX_FAILED_SIGN_INS):
        with pytest.raises(AccessError, match="Wrong"):
            store.sign_in("elif", "guess number one", now=start + timedelta(minutes=minute))
    last = start + timedelta(minutes=access.MAX_FAILED_SIGN_INS - 1)
    with pytest.raises(AccessError, match="try again in 15 minutes"):
        store.sign_in("elif", PASSWORD, now=last + timedelta(seconds=10))  # even the right password
    assert store.sign_in("elif", PASSWORD, now=last + timedelta(minutes=16)).role == "agent"
    # A success starts the count again: four more failures do not lock.
    for minute in range(access.MAX_FAILED_SIGN_INS - 1):
        with pytest.raises(AccessError, match="Wrong"):
            store.sign_in("elif", "guess again", now=last + timedelta(minutes=17 + minute))
    assert store.sign_in("elif", PASSWORD, now=last + timedelta(minutes=22)).user_name == "elif"


@pytest.mark.parametrize(("call", "message"), [
    (lambda s: s.add("Elif Çelik", "agent", PASSWORD), "2-40 characters"),
    (lambda s: s.add("'; DROP TABLE users; --", "agent", PASSWORD), "2-40 characters"),
    (lambda s: s.add("elif", "superuser", PASSWORD), "Unknown role"),
    (lambda s: s.add("elif", "agent", "short"), "at least 12"),
    (lambda s: s.add("elif", "agent", "x" * 10_000), "at most 1,000"),
    (lambda s: s.set_role("nobody", "agent"), "no user"),
])
def test_user_changes_refuse_bad_input(tmp_path, call, message):
    with pytest.raises(AccessError, match=message):
        call(UserStore(tmp_path / "u.sqlite"))


def test_a_removed_user_cannot_sign_in_and_a_name_is_taken_once(tmp_path):
    store = UserStore(tmp_path / "u.sqlite")
    store.add("elif", "agent", PASSWORD)
    with pytest.raises(AccessError, match="already"):
        store.add("elif", "admin", PASSWORD)
    store.remove("elif")
    with pytest.raises(AccessError, match="Wrong"):
        store.sign_in("elif", PASSWORD)


def _users_command(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crm360", "users", "--store", str(tmp_path / "users.sqlite"), *args],
                          cwd=ROOT, capture_output=True, text=True, input=stdin)


def test_the_users_command_adds_lists_changes_and_removes(tmp_path):
    added = _users_command(tmp_path, "add", "elif", "--role", "marketing")
    assert added.returncode == 0, added.stderr
    password = re.search(r"password: (\S+)", added.stdout).group(1)
    assert UserStore(tmp_path / "users.sqlite").sign_in("elif", password).role == "marketing"
    assert _users_command(tmp_path, "role", "elif", "executive").returncode == 0
    assert _users_command(tmp_path, "password", "elif", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    assert UserStore(tmp_path / "users.sqlite").sign_in("elif", PASSWORD).role == "executive"
    assert "elif" in _users_command(tmp_path, "list").stdout
    refused = _users_command(tmp_path, "add", "x", "--role", "agent")
    assert refused.returncode == 1 and refused.stderr.startswith("users: A user name is 2-40")
    assert _users_command(tmp_path, "remove", "elif").returncode == 0
    assert "elif" not in _users_command(tmp_path, "list").stdout
    changes = [e.detail["change"] for e in AuditLog().search(action="user_change")]  # CRM_AUDIT, as set for tests
    assert changes == ["remove", "password", "role", "add"]


def test_demo_users_are_made_once_one_per_role_with_passwords_printed_once(tmp_path):
    first = _users_command(tmp_path, "demo")
    passwords = dict(re.findall(r"^\s+(\w+)\s+\w+\s+password: (\S+)$", first.stdout, flags=re.MULTILINE))
    assert sorted(passwords) == sorted(access.ROLES)
    store = UserStore(tmp_path / "users.sqlite")
    assert {store.sign_in(name, password).role for name, password in passwords.items()} == set(access.ROLES)
    again = _users_command(tmp_path, "demo")
    assert again.returncode == 0 and "exist already" in again.stdout and "password:" not in again.stdout


# --- roles, pages and links ------------------------------------------------------------------

def test_the_sign_in_form_comes_before_any_page_and_records_both_outcomes(signed_in_app):
    UserStore().add("elif", "agent", PASSWORD)
    app = signed_in_app(None)
    app.run()
    assert [t.label for t in app.text_input] == ["User name", "Password"] and not app.exception
    app.text_input[0].input("elif")
    app.text_input[1].input("not the password")
    app.button[0].click().run()
    assert [e.value for e in app.error] == ["Wrong user name or password."]
    app.text_input[1].input(PASSWORD)
    app.button[0].click().run()
    assert not app.exception and app.title[0].value == "Customer 360" and not app.text_input
    assert [e.action for e in _audit().search(user_name="elif")] == ["sign_in", "sign_in_failed"]


@pytest.mark.parametrize("role", access.ROLES)
def test_each_role_is_offered_its_own_pages_only(signed_in_app, role):
    app = signed_in_app(role)
    app.run()
    assert not app.exception, app.exception
    for path, page in PAGE_FILES.items():
        allowed = access.may_open(role, path)
        if not allowed:
            # Not in the navigation; and should a stale page hash still reach it, the page refuses.
            try:
                app.switch_page(page).run()
            except ValueError as error:
                assert "Could not find a navigation page" in str(error)
            else:
                assert any("may not open this page" in e.value for e in app.error), (role, page)
                assert not app.title and not app.dataframe, (role, page)
            continue
        app.switch_page(page).run()
        assert not app.exception, (role, page, app.exception)
        assert not any("may not open" in e.value for e in app.error), (role, page)


def test_every_page_checks_the_role_itself():
    """The navigation hides pages, and each page refuses a role it is not for (a typed URL or a
    stale link reaches the page's code only through its own check)."""
    for path, page in PAGE_FILES.items():
        text = (ROOT / page).read_text(encoding="utf-8")
        assert f'session.require("{path}")' in text.split("st.title(")[0], page


@pytest.mark.parametrize(("role", "path", "allowed"), [
    ("agent", "customer", True), ("marketing", "customer", False), ("executive", "customer", False),
    ("admin", "customer", False), ("executive", "trends", True), ("agent", "trends", False),
    ("marketing", "outreach", True), ("executive", "outreach", False), ("admin", "audit", True),
    ("marketing", "audit", False), ("agent", "data-health", False), ("executive", "segments", False),
    ("service_lead", "outreach", True), ("service_lead", "campaigns", True), ("service_lead", "segments", False),
    ("service_lead", "customer", False), ("service_lead", "users", False),
])
def test_the_page_check_refuses_other_roles(signed_in_app, role, path, allowed):
    script = f'import streamlit as st\nfrom crm360 import session\nsession.require("{path}")\nst.success("shown")\n'
    app = AppTest.from_string(script, default_timeout=30)
    sign_in_session(app, User("someone", role))
    app.run()
    assert not app.exception
    assert bool(app.success) == allowed
    assert any("may not open this page" in e.value for e in app.error) != allowed


def test_a_customer_link_opened_by_marketing_shows_no_customer(signed_in_app, small_db):
    customer_id = small_db.row("SELECT min(customer_id) FROM customers")[0]
    app = signed_in_app("marketing")
    app.query_params["customer"] = str(customer_id)
    app.run()
    assert not app.exception
    with pytest.raises(ValueError):
        app.switch_page("pages/customer.py")


def test_a_session_idle_too_long_signs_out(signed_in_app, monkeypatch):
    monkeypatch.setenv("CRM_SESSION_IDLE_MINUTES", "30")
    app = signed_in_app("agent")
    app.session_state["last_active_at"] = datetime.now() - timedelta(minutes=31)
    app.run()
    assert [t.label for t in app.text_input] == ["User name", "Password"]
    assert any("without activity" in i.value for i in app.info)
    assert _audit().search(action="session_expired")[0].user_name == "test-agent"


def test_local_mode_is_explicit_and_says_so_on_every_page(small_db_path, monkeypatch):
    monkeypatch.setenv("CRM_DB", str(small_db_path))
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    for page in PAGE_FILES.values():
        app.switch_page(page).run()
        assert not app.exception, (page, app.exception)
        assert any("Local mode" in w.value and "CRM_AUTH=none" in w.value for w in app.warning), page


# --- what marketing may see and take away ------------------------------------------------------

def test_contact_details_show_only_on_consented_channels():
    import duckdb

    rows = [(1, "ayse@example.com", "+905321234567", True, False, True),
            (2, "mehmet@example.com", "+905331234567", False, False, False),
            (3, None, "+905341234567", True, True, False),
            (4, "can@example.com", "+4915112345678", False, False, False),
            (5, None, None, False, False, False)]
    con = duckdb.connect()
    con.execute("CREATE TABLE s (customer_id INT, email VARCHAR, phone VARCHAR, consent_email BOOLEAN, "
                "consent_sms BOOLEAN, consent_phone BOOLEAN)")
    con.executemany("INSERT INTO s VALUES (?, ?, ?, ?, ?, ?)", rows)
    shown = con.execute(f"""SELECT {masking.consented_email_sql("email", "consent_email")},
                                   {masking.consented_phone_sql("phone", "consent_phone", "consent_sms")},
                                   {masking.unconsented_email_masked_sql("email", "consent_email")},
                                   {masking.unconsented_phone_masked_sql("phone", "consent_phone", "consent_sms")}
                            FROM s ORDER BY customer_id""").fetchall()
    # The consented detail, or nothing; the masked one in a column of its own.
    assert shown == [("ayse@example.com", "+905321234567", None, None),
                     (None, None, "m***@example.com", "0533 *** ** 67"),
                     (None, "+905341234567", None, None), (None, None, "c***@example.com", "00491***78"),
                     (None, None, None, None)]


def test_the_outreach_list_and_its_files_carry_contacts_only_where_consented(small_db):
    listed = outreach.candidates(small_db, outreach.CandidateFilter(), limit=None)
    truth = small_db.frame("SELECT customer_id, email, phone, consent_email, consent_sms, consent_phone "
                           "FROM customer_summary")
    joined = listed.select("customer_id", "email", "phone").join(truth, on="customer_id", suffix="_real")
    assert joined.height == listed.height > 0
    leaked_email = joined.filter(~pl.col("consent_email") & (pl.col("email") == pl.col("email_real")))
    leaked_phone = joined.filter(~(pl.col("consent_phone") | pl.col("consent_sms"))
                                 & (pl.col("phone") == pl.col("phone_real")))
    assert leaked_email.is_empty() and leaked_phone.is_empty()
    shown = joined.filter(pl.col("consent_email") & pl.col("email_real").is_not_null())
    assert shown.height and (shown["email"] == shown["email_real"]).all()
    csv = export.to_csv(listed, ("elif (Marketing)", "2026-12-01T10:00:00")).decode("utf-8-sig")
    assert csv.splitlines()[0].endswith("exported_by,exported_at")
    assert csv.splitlines()[1].endswith("elif (Marketing),2026-12-01T10:00:00")


def _outreach_table(app: AppTest):
    return next(d.value for d in app.dataframe if "full_name" in d.value.columns)


def test_a_service_lead_sees_service_rows_with_the_detail_their_matter_needs(signed_in_app, small_db):
    app = signed_in_app("service_lead")
    app.run()
    app.switch_page("pages/outreach.py").run()
    assert not app.exception, app.exception
    table = _outreach_table(app)
    service = small_db.frame("""SELECT o.customer_id, o.service_channel, c.phone, c.email
                                FROM outreach_candidates o JOIN customers c USING (customer_id)
                                WHERE o.service ORDER BY o.priority DESC, o.customer_id LIMIT 1000""")
    assert len(table) == service.height > 0 and "marketing_channel" not in table.columns
    by_phone = service.filter(pl.col("service_channel").is_in(["phone", "sms"]) & pl.col("phone").is_not_null())
    assert set(by_phone["phone"]) <= set(table["phone"])  # unmasked, whatever the marketing consent
    assert any("needs no marketing consent" in c.value for c in app.caption)
    assert User("x", "service_lead").title == "x (Service lead)"
    # Their own matters only: no birthday or referral reason in the rows, the chart or the filter.
    from crm360.outreach_rules import RULE_BY_CODE
    marketing_reasons = {rule.reason for rule in RULE_BY_CODE.values() if rule.kind == "marketing"}
    assert not marketing_reasons & {reason for reasons in table["reasons"] for reason in reasons}
    [reason_filter] = [m for m in app.multiselect if m.label == "Reason"]
    assert "With a marketing reason" not in [metric.label for metric in app.metric]
    offered = set(reason_filter.options)
    assert offered and not offered & {reason.split(":")[0] for reason in marketing_reasons}


def test_marketing_sees_service_rows_with_consented_details_only(signed_in_app, small_db):
    app = signed_in_app("marketing")
    app.run()
    app.switch_page("pages/outreach.py").run()
    assert not app.exception
    table = _outreach_table(app)
    service_only = small_db.frame("""SELECT o.customer_id, c.phone FROM outreach_candidates o
                                     JOIN customers c USING (customer_id) JOIN marketing_consent m USING (customer_id)
                                     WHERE o.service AND NOT o.marketing AND NOT (m.consent_phone OR m.consent_sms)
                                       AND c.phone IS NOT NULL""")
    assert service_only.height and not set(service_only["phone"]) & set(table["phone"].dropna())


def test_an_excel_export_names_who_made_it(tmp_path):
    import zipfile

    workbook = export.to_xlsx(pl.DataFrame({"customer_id": [1]}), stamp=("elif (Marketing)", "2026-12-01T10:00:00"))
    path = tmp_path / "x.xlsx"
    path.write_bytes(workbook)
    with zipfile.ZipFile(path) as archive:
        assert "elif (Marketing)" in archive.read("docProps/core.xml").decode()
        strings = archive.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in archive.namelist() \
            else archive.read("xl/worksheets/sheet1.xml").decode()
        assert "exported_by" in strings and "2026-12-01T10:00:00" in strings


def test_segment_lists_offer_no_profile_links_to_marketing(signed_in_app):
    app = signed_in_app("marketing")
    app.run()
    app.switch_page("pages/segments.py").run()
    assert not app.exception
    table = [d for d in app.dataframe if "customer_id" in d.value.columns][-1]
    assert table.value["profile"].isna().all()


# --- the audit log -----------------------------------------------------------------------------

def test_the_audit_log_is_append_only(tmp_path):
    log = AuditLog(tmp_path / "a.sqlite")
    log.record("elif", "agent", "profile_view", customer_ids=[7])
    with sqlite3.connect(tmp_path / "a.sqlite") as con:
        for statement in ("UPDATE audit_log SET user_name = 'x'", "DELETE FROM audit_log",
                          "DELETE FROM audit_customers", "UPDATE audit_customers SET customer_id = 1"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                con.execute(statement)
    assert [(e.user_name, e.action) for e in log.search(customer_id=7)] == [("elif", "profile_view")]
    with pytest.raises(ValueError, match="unknown audit action"):
        log.record("elif", "agent", "peeked")


def test_searches_and_profile_views_are_recorded_once_per_look(signed_in_app, small_db):
    customer_id = small_db.row("SELECT customer_id FROM customer_summary ORDER BY customer_id LIMIT 1")[0]
    app = signed_in_app("agent")
    app.run()
    app.switch_page("pages/customer.py").run()
    app.text_input[0].input(str(customer_id)).run()
    app.run()  # a redraw of the same profile is not a new look
    entries = _audit().search(user_name="test-agent")
    assert [e.action for e in entries] == ["profile_view", "search"]
    assert entries[1].detail["query"] == str(customer_id) and entries[1].customers == 1
    assert [e.action for e in _audit().search(customer_id=customer_id)] == ["profile_view", "search"]


def test_lists_exports_campaign_changes_and_user_changes_are_recorded(signed_in_app, small_db, monkeypatch):
    app = signed_in_app("marketing")
    app.run()
    app.switch_page("pages/outreach.py").run()
    assert not app.exception
    listed = _audit().search(action="list_view", user_name="test-marketing")[0]
    assert listed.page == "outreach" and listed.customers > 0
    form = {t.label: t for t in app.text_input}
    form["Name"].input("Kış kampanyası <b>1</b>")
    form["Owner"].input("Elif")
    [create] = [b for b in app.button if b.label == "Create campaign"]
    create.click().run()
    assert not app.exception
    [created] = _audit().search(action="campaign_change")
    assert created.detail["change"] == "created" and created.customers > 0

    # An export's audit entry, and the file's stamp, come from the same call the download runs.
    def download() -> None:
        import polars as pl

        from crm360 import session
        contents = session.export_file("outreach", lambda: pl.DataFrame({"customer_id": [5, 6]}),
                                       filters={"rules": ["birthday"]})()
        assert b"test-marketing (Marketing)" in contents

    export_app = AppTest.from_function(download, default_timeout=30)
    sign_in_session(export_app, User("test-marketing", "marketing"))
    export_app.run()
    assert not export_app.exception, export_app.exception
    [exported] = _audit().search(action="export")
    assert exported.customers == 2 and exported.detail["filters"] == {"rules": ["birthday"]}
    assert _audit().search(action="export", customer_id=6)

    app.switch_page("pages/campaigns.py").run()
    [status] = [b for b in app.selectbox if b.label == "Status"]
    status.select("running")
    [set_status] = [b for b in app.button if b.label == "Set status"]
    set_status.click().run()
    assert not app.exception
    changed = _audit().search(action="campaign_change")[0]
    assert changed.detail["change"] == "status" and changed.detail["status"] == "running"
    [sign_out] = [b for b in app.button if b.label == "Sign out"]
    sign_out.click().run()
    assert _audit().search(action="sign_out")[0].user_name == "test-marketing"  # the browser test sees the form

    admin = signed_in_app("admin")
    admin.run()
    admin.switch_page("pages/users.py").run()
    [name] = [t for t in admin.text_input if t.label == "User name"]
    name.input("yeni.kullanici")
    [add] = [b for b in admin.button if b.label == "Add"]
    add.click().run()
    assert not admin.exception and any("Password for yeni.kullanici" in as_shown(s.value) for s in admin.success)
    assert _audit().search(action="user_change")[0].detail["user_changed"] == "yeni.kullanici"


def test_the_audit_page_answers_who_looked_at_a_customer_this_month(signed_in_app):
    log = _audit()
    log.record("elif", "agent", "profile_view", page="customer", customer_ids=[1000042])
    log.record("can", "agent", "profile_view", page="customer", customer_ids=[1000043])
    log.record("deniz", "marketing", "export", page="outreach", customer_ids=[1000042, 1000043])
    app = signed_in_app("admin")
    app.run()
    app.switch_page("pages/audit.py").run()
    [customer] = [t for t in app.text_input if t.label == "Customer number"]
    customer.input("1000042").run()
    assert not app.exception
    [table] = app.dataframe
    assert set(table.value["user"]) == {"elif", "deniz"}
    customer.input("").run()
    [person] = [t for t in app.text_input if t.label == "User"]
    person.input("deniz").run()  # which customers did deniz's entries concern, without a customer filter
    [table] = app.dataframe
    shown = table.value  # AppTest gives pandas
    assert shown[shown["action"] == "export"]["customer_numbers"].tolist() == ["1000042, 1000043"]
    customer.input("1 OR 1=1").run()
    assert any("digits only" in e.value for e in app.error)


# --- hostile text --------------------------------------------------------------------------------

HOSTILE = ["'; DROP TABLE customers; --", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
           "[click](javascript:alert(1))", "![x](http://example.com/x.png)", "**bold** _it_ :red[red]",
           "a\x00b\x07c\u202ed\r\ne", "x" * 10_000,
           # markdown links these and draws icons and emoji for these even when every markup character is escaped
           "visit www.evil.example now", "https://evil.example/login?next=x", "write to ali.veli@evil.example",
           ":material/warning: urgent :blue-badge[VIP]", "great service :smile: :+1: :streamlit:"]
_UNESCAPED_MARKUP = re.compile(r"(?<!\\)\[[^\]]*(?<!\\)\]\((?!\s)|(?<!\\)!\[|(?<!\\)\*\*bold|(?<!\\):red\[")


def _rendered_markup(app: AppTest) -> list[str]:
    """Markdown sources on the page that would render the hostile text as markup, a link, an icon or an emoji."""
    found = []
    for kind in ("markdown", "caption", "info", "warning", "error", "success", "title", "header", "subheader"):
        for element in getattr(app, kind):
            text = str(element.value)
            escaped_badly = _UNESCAPED_MARKUP.search(text) and any(h[:12] in text for h in HOSTILE)
            if escaped_badly or (live_markup(text) and any(h[:12] in as_shown(text) for h in HOSTILE)):
                found.append(text[:200])
    return found


@pytest.mark.parametrize("page", list(PAGE_FILES.values()))
def test_hostile_text_in_every_input_of_every_page_is_only_text(small_db_path, monkeypatch, tmp_path, page):
    monkeypatch.setenv("CRM_DB", str(small_db_path))
    monkeypatch.setenv("CRM_CAMPAIGNS", str(tmp_path / "campaigns.sqlite"))
    monkeypatch.setenv("CRM_IDENTITY_DECISIONS", str(tmp_path / "decisions.sqlite"))
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    app.switch_page(page).run()
    inputs = len(app.text_input)
    for index in range(inputs):
        for text in HOSTILE:
            app.text_input[index].input(text).run()
            assert not app.exception, (page, index, text[:30], app.exception)
            assert not _rendered_markup(app), (page, index, text[:30], _rendered_markup(app))
            app.text_input[index].input("").run()
    assert inputs or page in ("pages/home.py", "pages/model.py", "pages/segments.py", "pages/trends.py",
                              "pages/campaigns.py", "pages/data-health.py")


def test_a_role_changed_mid_work_is_said_on_the_next_click(signed_in_app):
    """An agent demoted while a wrap-up was open lands on a page of the new role and is told that
    what they were doing was not saved, rather than finding the form simply gone."""
    app = signed_in_app("agent")
    app.run()
    UserStore().set_role("test-agent", "executive")
    app.run()
    assert not app.exception
    assert any("changed your role to Executive" in w.value and "was not saved" in w.value for w in app.warning)
    app.run()
    assert not any("changed your role" in w.value for w in app.warning)  # said once
