"""The command lines a person types: exit status, the summary table, the clear failure line."""
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.rawfiles import write_raw

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_seed_then_etl_prints_the_accounting_and_publishes(tmp_path):
    seeded = _run("-m", "seed", "--customers", "300", "--seed", "3", "--out", str(tmp_path / "raw"),
                  "--as-of", "2026-06-30")
    assert seeded.returncode == 0 and "Wrote" in seeded.stdout
    loaded = _run("-m", "etl", "--raw", str(tmp_path / "raw"), "--db", str(tmp_path / "crm.duckdb"))
    assert loaded.returncode == 0, loaded.stderr
    assert "read = loaded + merged + duplicates + rejected for every file: yes" in loaded.stdout
    assert "interactions.csv" in loaded.stdout and "loading interactions.csv" in loaded.stderr
    con = duckdb.connect(str(tmp_path / "crm.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM customers").fetchone()[0] > 290


def test_etl_names_a_broken_file_with_one_clear_line_and_loads_the_rest(tmp_path):
    raw = write_raw(tmp_path / "raw", customers=[{"customer_id": 1000001}])
    (raw / "complaints.csv").write_bytes(b"")
    result = _run("-m", "etl", "--raw", str(raw), "--db", str(tmp_path / "crm.duckdb"))
    assert result.returncode == 3
    assert ("etl: complaints.csv: file is empty (not even a header); complaints is empty (no earlier load "
            "to keep)") in result.stderr
    assert "complaints.csv" in result.stdout and "FAILED" in result.stdout
    assert "Traceback" not in result.stderr
    con = duckdb.connect(str(tmp_path / "crm.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM customers").fetchone()[0] == 1


def test_etl_without_customers_publishes_nothing(tmp_path):
    raw = write_raw(tmp_path / "raw", customers=[{"customer_id": 1000001}])
    (raw / "customers.csv").write_bytes(b"")
    result = _run("-m", "etl", "--raw", str(raw), "--db", str(tmp_path / "crm.duckdb"))
    assert result.returncode == 1 and "etl: FAILED, nothing published: customers.csv: file is empty" in result.stderr
    assert not (tmp_path / "crm.duckdb").exists()


def test_etl_on_a_missing_directory_says_how_to_make_one(tmp_path):
    result = _run("-m", "etl", "--raw", str(tmp_path / "nope"), "--db", str(tmp_path / "crm.duckdb"))
    assert result.returncode == 1 and "python -m seed" in result.stderr


def test_seed_rejects_a_nonsense_customer_count(tmp_path):
    result = _run("-m", "seed", "--customers", "0", "--out", str(tmp_path))
    assert result.returncode == 2 and "--customers: must be at least 1" in result.stderr


def test_backtest_prints_fits_and_the_holdout_week_by_week(small_db_path):
    done = _run("-m", "crm360", "backtest", "--db", str(small_db_path), "--calibration-end", "2026-01-01",
                "--holdout-end", "2026-06-30", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["fits"]["bg_nbd"]["converged"] and set(result["fits"]["bg_nbd"]["params"]) == {"r", "alpha", "a", "b"}
    assert len(result["weekly"]) == (date(2026, 6, 30) - date(2026, 1, 1)).days // 7
    last = result["weekly"][-1]
    assert abs(last["predicted_cumulative"] - last["actual_cumulative"]) < 0.25 * last["actual_cumulative"]
    actual = sum(g["actual_mean"] * g["customers"] for g in result["by_calibration_repeat_purchases"])
    assert actual == pytest.approx(last["actual_cumulative"])
    text = _run("-m", "crm360", "backtest", "--db", str(small_db_path), "--calibration-end", "2026-01-01")
    assert text.returncode == 0 and "BG/NBD: r = " in text.stdout and "week  predicted cumulative" in text.stdout


def test_backtest_explains_bad_arguments(small_db_path, tmp_path):
    wrong_order = _run("-m", "crm360", "backtest", "--db", str(small_db_path), "--calibration-end", "2026-06-01",
                       "--holdout-end", "2026-01-01")
    assert wrong_order.returncode == 1 and "must come after the calibration end" in wrong_order.stderr
    no_date = _run("-m", "crm360", "backtest", "--db", str(small_db_path), "--calibration-end", "1 June")
    assert no_date.returncode == 2 and "is not a date" in no_date.stderr
    missing = _run("-m", "crm360", "backtest", "--db", str(tmp_path / "none.duckdb"), "--calibration-end", "2026-01-01")
    assert missing.returncode == 1 and "cannot open" in missing.stderr and "Traceback" not in missing.stderr


def test_bench_models_times_the_fits_and_reports_the_baseline_or_why_not(small_db_path):
    from bench import models

    result = models.run(small_db_path)
    assert result["bg_nbd"]["converged"] and result["customers_scored"] > 1000
    assert set(result["seconds"]) >= {"histories_sql", "fit_both", "score", "fit_and_score", "rfm_tier_segment"}
    baseline = result["baseline"]
    assert "skipped" in baseline or baseline["bg_nbd_params"]["r"] == pytest.approx(
        result["bg_nbd"]["params"]["r"], rel=1e-3)


def test_etl_warns_when_a_value_model_does_not_converge(tmp_path):
    customers = [{"customer_id": 1_000_700 + i, "phone": f"0532 000 70 {i:02d}", "email": f"n{i}@example.com"}
                 for i in range(4)]
    purchases = [{"order_id": i + 1, "customer_id": 1_000_700 + i, "ordered_at": "2026-05-01 10:00:00"}
                 for i in range(4)]  # nobody bought twice: drop-out cannot be estimated
    raw = write_raw(tmp_path / "raw", customers=customers, purchases=purchases)
    loaded = _run("-m", "etl", "--raw", str(raw), "--db", str(tmp_path / "crm.duckdb"))
    assert loaded.returncode == 0, loaded.stderr
    assert "warning: the bg_nbd fit (scoring) did not converge" in loaded.stderr
    assert "the scores that depend on it are left empty" in loaded.stderr


def test_outreach_writes_the_list_with_the_contact_pressure_hold(small_db, small_db_path, tmp_path):
    from datetime import timedelta

    from crm360.audit import AuditLog
    from crm360.campaigns import CampaignStore, NewCampaign

    ranked = small_db.frame("SELECT customer_id, rules FROM outreach_candidates ORDER BY priority DESC, customer_id")
    first = ranked["customer_id"][0]
    store = CampaignStore(tmp_path / "campaigns.sqlite")
    campaign_id = store.create(NewCampaign("Last week", "Deniz", "phone", date(2026, 6, 30), control_share=0),
                               [(first, "")])
    now = small_db.row("SELECT data_as_of FROM dataset_info")[0]
    store.mark_contacted(campaign_id, first, "reached", now - timedelta(days=3))
    out = tmp_path / "list.csv"
    result = _run("-m", "crm360", "outreach", "--db", str(small_db_path), "--campaigns",
                  str(tmp_path / "campaigns.sqlite"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert f"{ranked.height - 1:,} customers written" in result.stdout and "1 held back" in result.stdout
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == ranked.height and lines[0].startswith("customer_id,")
    assert lines[1].split(",")[0] == str(ranked["customer_id"][1])
    assert lines[0].endswith(",exported_by,exported_at") and "(command line)" in lines[1]
    [entry] = AuditLog().search(action="export")
    assert entry.page == "outreach command" and entry.detail["rows"] == ranked.height - 1
    birthdays = ranked.filter(ranked["rules"].list.contains("birthday")).height
    excel = _run("-m", "crm360", "outreach", "--db", str(small_db_path), "--campaigns",
                 str(tmp_path / "campaigns.sqlite"), "--reason", "birthday", "--out", str(tmp_path / "b.xlsx"))
    assert excel.returncode == 0 and f"{birthdays:,} customers written" in excel.stdout
    assert (tmp_path / "b.xlsx").read_bytes()[:2] == b"PK"
    # Names, phones and e-mails: readable by whoever ran the export only, whatever the umask.
    assert (out.stat().st_mode & 0o777, (tmp_path / "b.xlsx").stat().st_mode & 0o777) == (0o600, 0o600)


@pytest.mark.parametrize(("args", "message"), [
    (["--out", "list.txt"], "must end in .csv or .xlsx"),
    (["--out", "list.csv", "--db", "/nonexistent/crm.duckdb"], "No database"),
])
def test_outreach_refuses_bad_arguments_with_one_line(tmp_path, args, message):
    result = _run("-m", "crm360", "outreach", *[a if a != "list.csv" else str(tmp_path / a) for a in args])
    assert result.returncode == 1 and message in result.stderr and "Traceback" not in result.stderr
