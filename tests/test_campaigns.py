"""Campaigns live in their own store: created from a list, progress tracked, and nothing lost when
two people save at the same moment or the ETL publishes a new database."""
import multiprocessing
from datetime import date, datetime

import polars as pl
import pytest

from crm360.campaigns import CampaignError, CampaignStore, NewCampaign
from crm360.queries import campaign_results
from tests.conftest import load_dir
from tests.rawfiles import write_raw

CAMPAIGN = NewCampaign("Tell them it is fixed", "Deniz", "phone", date(2026, 7, 15), goal="complaints reopened")


def test_a_campaign_keeps_its_list_control_group_and_progress(tmp_path):
    store = CampaignStore(tmp_path / "campaigns.sqlite")
    members = [(1_000_000 + i, "known_issue_fixed") for i in range(1000)]
    campaign_id = store.create(CAMPAIGN, members, seed=3)
    control = [m for m in store.members(campaign_id) if m["control"]]
    assert 60 < len(control) < 140  # 10% drawn at creation
    contacted = next(m["customer_id"] for m in store.members(campaign_id) if not m["control"])
    store.mark_contacted(campaign_id, contacted, "converted", datetime(2026, 7, 1, 10, 0))
    store.set_status(campaign_id, "running")
    progress = store.campaigns()[0]
    assert (progress["customers"], progress["control_group"], progress["contacted"], progress["converted"]) == (
        1000, len(control), 1, 1)
    assert store.of_customer(contacted)[0]["outcome"] == "converted"
    assert store.recently_contacted(datetime(2026, 6, 20)) == {contacted}
    with pytest.raises(CampaignError, match="control group"):
        store.mark_contacted(campaign_id, control[0]["customer_id"], "reached")


@pytest.mark.parametrize(("campaign", "message"), [
    (NewCampaign("", "Deniz", "phone", date(2026, 7, 1)), "needs a name"),
    (NewCampaign("x" * 10_000, "Deniz", "phone", date(2026, 7, 1)), "200 at most"),
    (NewCampaign("Win back", "Deniz", "phone", date(2026, 7, 1), control_share=1.5), "share from 0"),
])
def test_bad_campaigns_are_refused_with_a_reason(tmp_path, campaign, message):
    store = CampaignStore(tmp_path / "campaigns.sqlite")
    with pytest.raises(CampaignError, match=message):
        store.create(campaign, [(1_000_001, "")])
    with pytest.raises(CampaignError, match="empty"):
        store.create(CAMPAIGN, [])
    assert store.campaigns() == []


def test_sql_or_html_in_a_name_is_kept_as_text(tmp_path):
    store = CampaignStore(tmp_path / "campaigns.sqlite")
    name = "'); DROP TABLE campaigns; -- <script>alert(1)</script>"
    store.create(NewCampaign(name, "Deniz", "sms", date(2026, 7, 1)), [(1_000_001, "")])
    assert store.campaigns()[0]["name"] == name


def _save_many(path: str, writer: int) -> None:
    store = CampaignStore(path)
    for i in range(20):
        store.create(NewCampaign(f"writer {writer} #{i}", "Deniz", "email", date(2026, 7, 1)),
                     [(1_000_000 + j, "") for j in range(50)], seed=i)


def test_two_people_saving_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "campaigns.sqlite")
    CampaignStore(path)
    writers = [multiprocessing.get_context("spawn").Process(target=_save_many, args=(path, w)) for w in range(2)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(120)
        assert process.exitcode == 0
    saved = CampaignStore(path).campaigns()
    assert len(saved) == 40 and all(c["customers"] == 50 for c in saved)


def test_campaigns_survive_an_etl_refresh(tmp_path, monkeypatch):
    from crm360 import campaigns
    from tests.conftest import load_dir
    from tests.rawfiles import write_raw

    raw = write_raw(tmp_path / "raw", customers=[{"customer_id": 1_000_001}])
    database, _ = load_dir(raw, tmp_path)
    monkeypatch.setenv("CRM_DB", str(database.published))
    monkeypatch.delenv("CRM_CAMPAIGNS", raising=False)
    store = CampaignStore()
    assert store.path == database.published.with_name("campaigns.sqlite") == campaigns.store_path()
    campaign_id = store.create(CAMPAIGN, [(1_000_001, "known_issue_fixed")])
    load_dir(raw, tmp_path)  # a new version is published beside it
    assert CampaignStore().members(campaign_id)[0]["customer_id"] == 1_000_001


NOW = datetime(2026, 6, 30, 12, 0)
CREATED = datetime(2026, 6, 1, 0, 0)


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """Three on the list (900 and 902 contacted, 901 not reached) and three in the control group."""
    tmp = tmp_path_factory.mktemp("campaign-results")
    customers = [{"customer_id": c, "full_name": f"Müşteri {c}", "email": f"c{c}@example.com",
                  "phone": f"0532 000 00 {c % 100:02d}"} for c in range(900, 906)]
    purchases = [
        {"order_id": 1, "customer_id": 900, "ordered_at": "2026-06-03 10:00:00", "net_amount_try": 100.0},
        {"order_id": 2, "customer_id": 900, "ordered_at": "2026-06-10 10:00:00", "net_amount_try": 300.0},
        {"order_id": 3, "customer_id": 901, "ordered_at": "2026-06-10 10:00:00", "net_amount_try": 200.0},
        {"order_id": 4, "customer_id": 903, "ordered_at": "2026-06-15 10:00:00", "net_amount_try": 100.0,
         "status": "cancelled"},
        {"order_id": 5, "customer_id": 904, "ordered_at": "2026-06-15 10:00:00", "net_amount_try": 400.0},
        {"order_id": 6, "customer_id": 904, "ordered_at": "2026-05-15 10:00:00", "net_amount_try": 999.0},
    ]
    complaints = [{"complaint_id": 1, "customer_id": 900, "opened_at": "20.06.2026 10:00"},
                  {"complaint_id": 2, "customer_id": 905, "opened_at": "02.06.2026 10:00"}]
    database, _ = load_dir(write_raw(tmp / "raw", customers=customers, purchases=purchases, complaints=complaints),
                           tmp)
    members = [{"customer_id": 900, "control": 0, "contacted_at": "2026-06-05T00:00:00"},
               {"customer_id": 901, "control": 0, "contacted_at": None},
               {"customer_id": 902, "control": 0, "contacted_at": "2026-06-20T12:00:00"},
               *({"customer_id": c, "control": 1, "contacted_at": None} for c in (903, 904, 905))]
    outcomes = campaign_results.group_outcomes(database, members, CREATED, NOW)
    return {row["group"]: row for row in outcomes.iter_rows(named=True)}, outcomes


def test_a_campaign_is_measured_after_contact_against_its_control_group(measured):
    groups, _ = measured
    contacted, listed, control = groups["contacted"], groups["list"], groups["control"]
    # Contacted: 900 from 5 June (the 3 June order is before contact) for 25.5 days, 902 for 10 days.
    assert (contacted["customers"], contacted["days_observed"]) == (2, pytest.approx(17.75))
    assert (contacted["bought"], contacted["orders"], contacted["revenue_try"]) == (0.5, 0.5, 150.0)
    assert contacted["complained"] == 0.5
    # The whole list from the campaign's creation: 900 twice (400 TRY), 901 once (200 TRY), 902 never.
    assert (listed["customers"], listed["days_observed"]) == (3, pytest.approx(29.5))
    assert (listed["bought"], listed["orders"], listed["revenue_try"]) == (
        pytest.approx(2 / 3), 1.0, pytest.approx(200.0))
    # Control: a cancelled order and one before the campaign do not count.
    assert (control["bought"], control["revenue_try"], control["complained"]) == (
        pytest.approx(1 / 3), pytest.approx(400 / 3), pytest.approx(1 / 3))


def test_an_effect_is_claimed_only_when_its_interval_excludes_none(measured):
    _, outcomes = measured
    small = campaign_results.effects(outcomes, "list").row(0, named=True)
    # bought: 2/3 vs 1/3, each with sample variance 1/3 over 3 customers.
    assert small["difference"] == pytest.approx(1 / 3)
    assert small["high"] - small["difference"] == pytest.approx(1.959964 * (2 / 9) ** 0.5)
    assert small["verdict"] == "no difference the data can show"
    large = pl.DataFrame([
        {"group": "list", "customers": 100, **{f"{n}": 0.5 for n, *_ in campaign_results.OUTCOMES},
         **{f"{n}_variance": 0.25 for n, *_ in campaign_results.OUTCOMES}},
        {"group": "control", "customers": 100, **{f"{n}": 0.1 for n, *_ in campaign_results.OUTCOMES},
         **{f"{n}_variance": 0.09 for n, *_ in campaign_results.OUTCOMES}}])
    assert campaign_results.effects(large, "list")["verdict"][0] == "higher than the control group"
    lone = outcomes.filter(pl.col("group") != "control")
    assert campaign_results.effects(lone, "list")["verdict"][0] == "too few customers to tell"


def test_sql_and_html_in_a_campaign_are_kept_as_text(tmp_path):
    store = CampaignStore(tmp_path / "campaigns.sqlite")
    hostile = "<script>alert(1)</script>'); DROP TABLE campaigns;--"
    campaign_id = store.create(NewCampaign(hostile, "Deniz", "phone", date(2026, 7, 1), goal=hostile),
                               [(1_000_001, hostile)])
    assert store.campaign(campaign_id)["name"] == hostile and store.members(campaign_id)[0]["reasons"] == hostile
    assert len(store.campaigns()) == 1
