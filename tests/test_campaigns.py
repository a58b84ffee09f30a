"""Campaigns live in their own store: created from a list, progress tracked, and nothing lost when
two people save at the same moment or the ETL publishes a new database."""
import multiprocessing
from datetime import date, datetime

import pytest

from crm360.campaigns import CampaignError, CampaignStore, NewCampaign

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
