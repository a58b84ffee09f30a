"""The data-health page's numbers: each run's accounting adds up its files exactly once."""
from crm360.queries import health


def test_recent_runs_sum_each_file_once(small_db):
    runs = health.recent_runs(small_db)
    run = runs.row(0, named=True)
    files = health.run_files(small_db, run["run_id"])
    assert run["files"] == files.height == 8
    assert run["rows_read"] == files["rows_read"].sum()
    assert run["rows_read"] == run["rows_loaded"] + run["rows_duplicate"] + run["rows_rejected"]
    assert run["load_seconds"] > 0 and run["marts_seconds"] > 0
    assert files["reconciles"].all()


def test_quarantine_rows_filter_by_file(small_db):
    summary = health.quarantine_summary(small_db)
    assert not summary.is_empty(), "the seed puts a little dirt in every file"
    chosen = summary["source_file"][0]
    rows = health.quarantine_rows(small_db, chosen)
    assert set(rows["source_file"]) == {chosen}


def test_the_whole_quarantine_can_be_had_for_a_download(small_db):
    total = small_db.row("SELECT count(*) FROM quarantine")[0]
    assert health.quarantine_rows(small_db, limit=5).height == 5 < total  # the page shows a first part
    everything = health.quarantine_rows(small_db, limit=None)
    assert everything.height == total
    assert set(everything.columns) == {"source_file", "line_number", "field", "reason", "action", "raw_value"}
