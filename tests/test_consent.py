"""Consent and contact rules on a hand-built company made to tempt every violation: campaigns reach
only customers who agreed to their channel (service campaigns: the channel their matter came in
on), never a do-not-contact customer or one held by the contact-pressure rule; İYS refusals
override CRM consent in every marketing list and export; service rows carry the detail their
matter needs; exported phones are digits a dialler reads as they are."""
from __future__ import annotations

import shutil
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from crm360 import export
from crm360.campaigns import CampaignError, CampaignStore, NewCampaign, Saved
from crm360.outreach_rules import MARKETING, SERVICE
from crm360.queries import outreach
from etl.mapping import SEED_MAPPING
from etl.pipeline import LoadFailed
from tests.conftest import load_dir, sign_in_session
from tests.rawfiles import write_raw

NOW = datetime(2026, 6, 30, 12, 0)
IYS_FILE = Path(__file__).parent / "data" / "iys" / "iys_izinler.csv"
IYS_MAPPING = SEED_MAPPING.with_name("iys.toml")
BIRTHDAY_SOON = f"1985-{NOW + timedelta(days=3):%m-%d}"  # a marketing reason for everyone below


def _turkish(delta: timedelta) -> str:
    return f"{NOW + delta:%d.%m.%Y %H:%M}"


def _customer(number: int, **fields: str) -> dict:
    no_consent = {"consent_email": "false", "consent_sms": "false", "consent_phone": "false",
                  "preferred_channel": "phone", "do_not_contact": "false"}
    return {"customer_id": 1_000_000 + number, "full_name": f"Müşteri {number}",
            "email": f"c{1_000_000 + number}@example.com", "phone": f"+9053200099{number % 100:02d}",
            "birth_date": BIRTHDAY_SOON, "signup_date": "2025-01-15",
            **no_consent, **fields}


YES = "true"
CUSTOMERS = [
    _customer(901, consent_sms=YES, consent_email=YES),   # İYS refuses SMS: e-mail only
    _customer(902, consent_email=YES),                     # İYS approved, then refused e-mail: no consent left
    _customer(903, consent_phone=YES),                     # İYS refused, then approved calls again: keeps phone
    _customer(904),                                        # İYS approves SMS: still no consent in the CRM
    _customer(905, consent_sms=YES, consent_email=YES, consent_phone=YES, do_not_contact=YES),  # + a complaint
    _customer(906, preferred_channel="sms"),               # no consent; a complaint by e-mail waits for an answer
    _customer(907, consent_sms=YES),                       # a stalled complaint by phone; SMS marketing
    _customer(908, consent_email=YES),                     # contacted in a campaign 3 days ago: held
    _customer(909, consent_sms=YES, consent_email=YES, consent_phone=YES),
    _customer(910, consent_email=YES, birth_date="1985-01-01"),  # anchors "now" (a survey), nothing else
]
COMPLAINTS = [
    {"complaint_id": 1, "customer_id": 1_000_905, "opened_at": _turkish(-timedelta(hours=40)), "status": "open"},
    {"complaint_id": 2, "customer_id": 1_000_906, "opened_at": _turkish(-timedelta(hours=30)), "status": "open",
     "channel": "email"},
    {"complaint_id": 3, "customer_id": 1_000_907, "opened_at": _turkish(-timedelta(days=8)), "status": "in_progress",
     "first_response_at": _turkish(-timedelta(days=6)), "channel": "phone"},
]
SURVEYS = [{"survey_id": 1, "customer_id": 1_000_910, "responded_at": f"{NOW:%Y-%m-%d %H:%M:%S}", "nps_score": 7}]


def _company(tmp: Path, with_iys: bool) -> Path:
    raw = write_raw(tmp / "raw", customers=CUSTOMERS, complaints=COMPLAINTS, surveys=SURVEYS)
    if with_iys:
        shutil.copy(IYS_FILE, raw / IYS_FILE.name)
    return raw


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("consent")
    # One bad row in ten: above the default 5% share, allowed here to see it quarantined.
    database, report = load_dir(_company(tmp, with_iys=True), tmp, mapping=[SEED_MAPPING, IYS_MAPPING],
                                max_rejected_share=0.2)
    assert database.row("SELECT data_as_of FROM dataset_info")[0] == NOW
    return database, report


@pytest.fixture(scope="module")
def db(company):
    return company[0]


def _held(number: int = 908) -> tuple[int, ...]:
    return (1_000_000 + number,)


def _numbers(ids) -> set[int]:
    return {customer_id - 1_000_000 for customer_id in ids}


# --- İYS ----------------------------------------------------------------------------------------

def test_an_iys_export_loads_through_its_mapping_and_bad_rows_are_quarantined(company):
    db, report = company
    iys = next(f for f in report.files if f.source.entity == "iys_consents")
    assert (iys.counts.rows_read, iys.counts.rows_loaded, iys.counts.rows_rejected) == (10, 9, 1)
    assert db.row("SELECT line_number, field FROM quarantine WHERE entity = 'iys_consents'") == (11, "channel")
    assert db.row("SELECT recipient, channel, status, decided_at FROM iys_consents "
                  "WHERE recipient = '+905320009901' AND channel = 'sms'") == (
        "+905320009901", "sms", "refused", datetime(2026, 3, 15, 10, 20))


def test_an_iys_refusal_overrides_crm_consent_and_an_approval_adds_none(db):
    consent = {row[0] - 1_000_000: row[1:] for row in db.frame(
        "SELECT customer_id, consent_email, consent_sms, consent_phone FROM marketing_consent").rows()}
    assert consent[901] == (True, False, False)   # SMS refused in İYS
    assert consent[902] == (False, False, False)  # the later İYS record (a refusal) counts
    assert consent[903] == (False, False, True)   # refused, then approved again: the latest counts
    assert consent[904] == (False, False, False)  # an İYS approval is not CRM consent
    assert consent[909] == (True, True, True)


def test_an_unreadable_iys_export_with_nothing_to_keep_fails_the_load(tmp_path):
    raw = _company(tmp_path, with_iys=True)
    (raw / IYS_FILE.name).write_text("ALICI;TİP;DURUM;İZİN TARİHİ\n+905320009901;MESAJ;BELKİ;15.03.2026\n",
                                     encoding="utf-8")
    with pytest.raises(LoadFailed, match="iys_consents"):
        load_dir(raw, tmp_path, mapping=[SEED_MAPPING, IYS_MAPPING])


def test_a_later_run_without_the_iys_mapping_keeps_the_refusals(tmp_path):
    """A nightly load run without `--mapping iys.toml` must not drop the register's refusals."""
    raw = _company(tmp_path, with_iys=True)
    load_dir(raw, tmp_path, mapping=[SEED_MAPPING, IYS_MAPPING], max_rejected_share=0.2)
    db, _ = load_dir(raw, tmp_path)  # the seed's mapping alone
    assert db.row("SELECT count(*) FROM iys_consents")[0] == 9
    assert db.row("SELECT consent_sms FROM marketing_consent WHERE customer_id = 1000901")[0] is False


def test_a_failing_iys_export_fails_the_run_when_only_an_empty_register_was_loaded_before(tmp_path):
    """An installation that ran without İYS has an empty register: keeping it is keeping nothing."""
    raw = _company(tmp_path, with_iys=False)
    load_dir(raw, tmp_path)
    shutil.copy(IYS_FILE, raw / IYS_FILE.name)  # one bad row in ten: over the default 5%
    with pytest.raises(LoadFailed, match=r"iys_consents.*|--max-rejected"):
        load_dir(raw, tmp_path, mapping=[SEED_MAPPING, IYS_MAPPING])


def test_without_an_iys_file_nothing_changes(tmp_path):
    db, _ = load_dir(_company(tmp_path, with_iys=False), tmp_path)
    assert db.row("SELECT count(*) FROM iys_consents")[0] == 0
    differs = db.row("""SELECT count(*) FROM marketing_consent m JOIN customers c USING (customer_id)
                        WHERE (m.consent_email, m.consent_sms, m.consent_phone)
                              <> (c.consent_email, c.consent_sms, c.consent_phone)""")[0]
    assert differs == 0
    assert 1_000_901 in outreach.candidates(db, outreach.CandidateFilter(), limit=None)["customer_id"].to_list()


# --- the lists ------------------------------------------------------------------------------------

def _truth(db) -> pl.DataFrame:
    return db.frame("SELECT customer_id, c.email AS real_email, c.phone AS real_phone, c.do_not_contact, "
                    "m.consent_email, m.consent_sms, m.consent_phone FROM customers c "
                    "JOIN marketing_consent m USING (customer_id)")


def test_the_marketing_list_and_its_files_break_no_consent(db):
    listed = outreach.candidates(db, outreach.CandidateFilter(), limit=None)
    assert _numbers(listed["customer_id"]) == {901, 903, 906, 907, 908, 909}
    joined = listed.join(_truth(db), on="customer_id")
    violations = joined.filter(
        pl.col("do_not_contact")
        | (pl.col("email").is_not_null() & ~pl.col("consent_email"))
        | (pl.col("phone").is_not_null() & ~(pl.col("consent_phone") | pl.col("consent_sms")))
        | ((pl.col("marketing_channel") == "email") & ~pl.col("consent_email"))
        | ((pl.col("marketing_channel") == "sms") & ~pl.col("consent_sms"))
        | ((pl.col("marketing_channel") == "phone") & ~pl.col("consent_phone")))
    assert violations.height == 0
    row = {r["customer_id"] - 1_000_000: r for r in listed.rows(named=True)}
    assert row[901]["phone"] is None and row[901]["phone_masked"] == "0532 *** ** 01"  # SMS refused in İYS
    assert row[901]["email"] == "c1000901@example.com" and row[901]["marketing_channel"] == "email"
    assert row[906]["email"] is None and row[906]["email_masked"] == "c***@example.com"
    for written in (export.to_csv(listed).decode("utf-8-sig"),):
        assert "c1000906@example.com" not in written and "0009902" not in written


def test_service_rows_carry_the_detail_their_matter_needs(db):
    service = outreach.candidates(db, outreach.CandidateFilter(view=SERVICE), limit=None)
    assert _numbers(service["customer_id"]) == {906, 907}
    row = {r["customer_id"] - 1_000_000: r for r in service.rows(named=True)}
    assert (row[906]["service_channel"], row[906]["service_email"], row[906]["service_phone"]) == (
        "email", "c1000906@example.com", None)
    assert (row[907]["service_channel"], row[907]["service_phone"]) == ("phone", "+905320009907")
    assert "email" not in service.columns and "marketing_channel" not in service.columns


# --- campaigns ------------------------------------------------------------------------------------

def test_a_marketing_campaign_says_who_it_leaves_out_and_why(db):
    chosen = outreach.CandidateFilter(held_back=_held())
    reach = outreach.campaign_reach(db, chosen)
    # Picked: every customer with a birthday soon (all ten but 910) and the complaints.
    assert (reach.picked, reach.do_not_contact, reach.held_back) == (9, 1, 1)
    assert reach.reached == {"email": 2, "sms": 2, "phone": 2}  # email 901, 909; sms 907, 909; phone 903, 909
    assert reach.no_consent("email") == 5 and reach.left_out("email") == 7
    assert reach.offered() == ["phone", "email", "sms"]
    narrow = outreach.campaign_reach(db, outreach.CandidateFilter(rules=("overdue_response",)))
    assert (narrow.picked, narrow.do_not_contact, narrow.offered()) == (2, 1, [])  # 905 (DNC), 906 (no consent)


def test_a_service_campaign_uses_the_channel_the_matter_came_in_on(db):
    chosen = outreach.CandidateFilter(view=SERVICE, held_back=_held())
    reach = outreach.campaign_reach(db, chosen)
    assert (reach.picked, reach.do_not_contact, reach.held_back) == (3, 1, 0)  # 905, 906, 907
    assert reach.reached == {"email": 1, "sms": 0, "phone": 1}
    assert reach.offered() == ["phone", "email"]
    audience = outreach.campaign_audience(db, chosen, "email")
    assert _numbers(audience["customer_id"]) == {906}  # no marketing consent needed for their own matter
    assert all("birthday" not in " ".join(reasons).lower() for reasons in audience["reasons"])


@pytest.mark.parametrize("view", [MARKETING, SERVICE])
def test_no_campaign_audience_breaks_a_rule(db, view):
    truth = {r["customer_id"]: r for r in _truth(db).rows(named=True)}
    service_channels = dict(db.frame("SELECT customer_id, service_channel FROM outreach_reach").rows())
    for rules in ((), ("birthday",), ("overdue_response", "stalled_complaint")):
        chosen = outreach.CandidateFilter(rules=rules, held_back=_held(), view=view)
        reach = outreach.campaign_reach(db, chosen)
        for channel in outreach.CHANNELS:
            audience = outreach.campaign_audience(db, chosen, channel)["customer_id"].to_list()
            assert len(audience) == reach.reached[channel]
            for customer_id in audience:
                person = truth[customer_id]
                assert not person["do_not_contact"] and customer_id not in _held()
                if view == MARKETING:
                    assert person[f"consent_{channel}"], (customer_id, channel)
                else:  # the matter's channel, and an address on it
                    assert service_channels[customer_id] == channel
                    assert person["real_email" if channel == "email" else "real_phone"], (customer_id, channel)


def test_create_pressed_twice_or_by_two_people_at_once_makes_one_campaign(tmp_path):
    store = CampaignStore(tmp_path / "campaigns.sqlite")
    draft = NewCampaign("Doğum günü", "Deniz", "email", date(2026, 7, 14), filters="birthday")
    results, start = [], threading.Barrier(8)

    def create(owner: str) -> None:
        start.wait()
        results.append(CampaignStore(store.path).save(
            NewCampaign(draft.name, owner, draft.channel, draft.due_date, filters=draft.filters),
            [(1_000_901, "birthday"), (1_000_909, "birthday")]))

    threads = [threading.Thread(target=create, args=(f"person {i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 8 and len({r.campaign_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert store.save(draft, [(1_000_901, "birthday")]) == Saved(results[0].campaign_id, created=False)  # again
    assert len(store.campaigns()) == 1 and store.campaigns()[0]["customers"] == 2
    other = store.save(NewCampaign("Doğum günü", "Deniz", "sms", date(2026, 7, 14), filters="birthday"),
                       [(1_000_909, "birthday")])
    assert other.created and len(store.campaigns()) == 2


def test_a_service_campaign_is_labelled_as_service(tmp_path):
    store = CampaignStore(tmp_path / "campaigns.sqlite")
    campaign_id = store.create(NewCampaign("Yanıt bekleyenler", "Deniz", "email", date(2026, 7, 1), kind=SERVICE,
                                           control_share=0), [(1_000_906, "overdue")])
    assert store.campaign(campaign_id)["kind"] == SERVICE == store.campaigns()[0]["kind"]


def test_a_service_campaign_holds_back_no_one(tmp_path):
    """A control group goes uncontacted on purpose: no complaint is left unanswered to measure a lift."""
    store = CampaignStore(tmp_path / "campaigns.sqlite")
    with pytest.raises(CampaignError, match="holds back no one"):
        store.create(NewCampaign("Yanıt bekleyenler", "Deniz", "email", date(2026, 7, 1), kind=SERVICE,
                                 control_share=0.1), [(1_000_906, "overdue")])


# --- phones a dialler can use --------------------------------------------------------------------

def test_exported_phones_are_digits_a_dialler_reads_as_they_are(db):
    listed = outreach.candidates(db, outreach.CandidateFilter(), limit=None)
    rows = export.to_csv(listed).decode("utf-8-sig").splitlines()
    header = rows[0].split(",")
    phones = [line.split(",")[header.index("phone")] for line in rows[1:]]
    masked = [line.split(",")[header.index("phone_masked")] for line in rows[1:]]
    assert "905320009909" in phones and "905320009903" in phones
    assert all(p == "" or p.isdigit() for p in phones)
    assert any("***" in m for m in masked)
    service = outreach.candidates(db, outreach.CandidateFilter(view=SERVICE), limit=None)
    assert export.neutralise(service)["service_phone"].drop_nulls().to_list() == ["905320009907"]


# --- segments ---------------------------------------------------------------------------------------

def test_do_not_contact_customers_are_counted_in_a_segment_but_not_listed(db):
    from crm360.queries import value

    summary = value.segment_summary(db)
    assert summary.filter(pl.col("segment") == "Prospects")["customers"].item() == 10  # 905 counted
    listed = value.segment_customers(db, "Prospects")
    assert _numbers(listed["customer_id"]) == set(range(901, 911)) - {905}
    assert value.segment_do_not_contact(db, "Prospects") == 1
    consent = {r["customer_id"] - 1_000_000: r for r in listed.rows(named=True)}
    assert not consent[901]["consent_sms"] and consent[901]["consent_email"]  # the İYS refusal shows here too


# --- the outreach page, before a campaign is created ------------------------------------------------

PICKED = "Of the {} customers these filters pick (everyone a reason fires for, also those the list above leaves out), "


@pytest.mark.parametrize(("role", "offered", "said"), [
    ("marketing", ["phone", "e-mail", "SMS"], PICKED.format(9) + "3 (agreed to e-mail marketing) "
                                              "get it; 6 are left out: 5 no marketing consent on e-mail (or refused "
                                              "it in İYS), or no address for it, 1 asked not to be contacted, "
                                              "0 were contacted"),
    ("service_lead", ["phone", "e-mail"], PICKED.format(3) + "1 (whose matter came in on "
                                          "e-mail) get it; 2 are left out: 1 their matter came in on another "
                                          "channel, or there is no address for it on file, 1 asked not to be "
                                          "contacted"),
])
def test_the_page_says_who_a_campaign_leaves_out_and_offers_only_channels_that_reach_someone(
        db, monkeypatch, tmp_path, role, offered, said):
    from streamlit.testing.v1 import AppTest

    from crm360.access import User

    monkeypatch.delenv("CRM_AUTH", raising=False)
    monkeypatch.setenv("CRM_DB", str(db.published))
    monkeypatch.setenv("CRM_CAMPAIGNS", str(tmp_path / "campaigns.sqlite"))
    app = AppTest.from_file("../dashboard.py", default_timeout=60)
    sign_in_session(app, User(f"test-{role}", role))
    app.run()
    app.switch_page("pages/outreach.py").run()
    assert not app.exception, app.exception
    channel = next(s for s in app.selectbox if s.label == "Channel")
    assert list(channel.options) == offered
    channel.select("email").run()
    assert any(said in c.value for c in app.caption), [c.value for c in app.caption]


def test_the_agent_sees_the_consent_marketing_applies_with_the_iys_refusal_named(db):
    """An agent must not read "SMS: yes" for a customer who refused SMS in İYS."""
    from crm360.queries.customer import load_customer
    record = load_customer(db, 1_000_901)
    assert (record.profile["consent_email"], record.profile["consent_sms"]) == (True, False)
    assert list(record.profile["iys_refused"]) == ["sms"]
    assert list(load_customer(db, 1_000_909).profile["iys_refused"]) == []


def test_a_consented_channel_without_an_address_reaches_no_one(tmp_path):
    """Consent to e-mail with no e-mail address on file is no channel: the list must not promise one."""
    customers = [_customer(921, consent_email=YES, email=""),                    # nothing to send to
                 _customer(922, consent_email=YES, consent_sms=YES, email=""),   # SMS it is
                 _customer(910, consent_email=YES, birth_date="1985-01-01")]
    raw = write_raw(tmp_path / "raw", customers=customers, surveys=SURVEYS)
    db, _ = load_dir(raw, tmp_path)
    listed = {row["customer_id"] - 1_000_000: row for row in outreach.candidates(
        db, outreach.CandidateFilter(), limit=None).rows(named=True)}
    assert 921 not in listed
    assert listed[922]["marketing_channel"] == "sms"
    assert db.row("SELECT marketing_channels FROM marketing_consent WHERE customer_id = 1000921")[0] == []


# --- a campaign's working list: its members through today's consent ----------------------------------

def _members(*rows: tuple[int, int]) -> list[dict]:
    return [{"customer_id": 1_000_000 + number, "control": control, "contacted_at": None, "outcome": None,
             "reasons": "birthday"} for number, control in rows]


def test_a_campaign_contacts_only_members_who_may_be_contacted_today(db):
    """The list was fixed at creation; consent was not: İYS refusals, missing consent and
    do-not-contact leave a member off the working list, and the control group is never on it."""
    from crm360.queries import campaign_contacts

    members = _members((901, 0), (902, 0), (904, 0), (905, 0), (909, 1))
    reach = campaign_contacts.member_reach(db, members, "email", MARKETING)
    working = campaign_contacts.working_list(reach)
    assert _numbers(working["customer_id"]) == {901}
    assert working.row(0, named=True)["email"] == "c1000901@example.com"
    assert campaign_contacts.blocked_counts(reach) == {"no_consent": 2, "do_not_contact": 1}
    by_sms = campaign_contacts.member_reach(db, members, "sms", MARKETING)
    assert campaign_contacts.working_list(by_sms).is_empty()  # 901 refused SMS in İYS
    service = campaign_contacts.member_reach(db, _members((906, 0), (905, 0)), "email", SERVICE)
    assert _numbers(campaign_contacts.working_list(service)["customer_id"]) == {906}  # no consent needed


def test_the_campaigns_page_offers_and_exports_only_members_who_may_be_contacted(db, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    from crm360.access import User

    monkeypatch.delenv("CRM_AUTH", raising=False)
    monkeypatch.setenv("CRM_DB", str(db.published))
    monkeypatch.setenv("CRM_CAMPAIGNS", str(tmp_path / "campaigns.sqlite"))
    CampaignStore(tmp_path / "campaigns.sqlite").create(
        NewCampaign("Doğum günü", "Deniz", "email", date(2026, 7, 1), control_share=0),
        [(1_000_000 + number, "birthday") for number in (901, 902, 905)])
    app = AppTest.from_file("../dashboard.py", default_timeout=60)
    sign_in_session(app, User("test-marketing", "marketing"))
    app.run()
    app.switch_page("pages/campaigns.py").run()
    assert not app.exception, app.exception
    [contacted] = [box for box in app.selectbox if box.label == "Customer contacted"]
    assert contacted.options == ["1000901"] and contacted.value is None  # nobody recorded by default
    [record] = [button for button in app.button if button.label == "Record the contact"]
    record.click().run()
    assert not CampaignStore(tmp_path / "campaigns.sqlite").members(1)[0]["contacted_at"]
    assert any("Pick the customer first" in w.value for w in app.warning)
    assert any("1 asked not to be contacted" in w.value and "1 no marketing consent" in w.value for w in app.warning)


def test_each_role_sees_only_its_kind_of_campaign(db, monkeypatch, tmp_path):
    """A service campaign's list carries phones without marketing consent: not marketing's to see;
    a marketing list is none of the service lead's business."""
    from streamlit.testing.v1 import AppTest

    from crm360.access import User

    monkeypatch.delenv("CRM_AUTH", raising=False)
    monkeypatch.setenv("CRM_DB", str(db.published))
    monkeypatch.setenv("CRM_CAMPAIGNS", str(tmp_path / "campaigns.sqlite"))
    CampaignStore(tmp_path / "campaigns.sqlite").create(
        NewCampaign("Şikayet takibi", "Deniz", "phone", date(2026, 7, 1), kind=SERVICE, control_share=0),
        [(1_000_906, "overdue_response")])
    for role, sees in (("marketing", False), ("service_lead", True)):
        app = AppTest.from_file("../dashboard.py", default_timeout=60)
        sign_in_session(app, User(f"test-{role}", role))
        app.run()
        app.switch_page("pages/campaigns.py").run()
        assert not app.exception, app.exception
        assert bool([box for box in app.selectbox if box.label == "Campaign"]) == sees, role
        assert any("No campaign yet" in i.value for i in app.info) != sees
