"""A reader never sees a half-built database and is never locked out by the ETL."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from crm360.store import Database, all_versions, current_version
from etl.pipeline import LoadParams, run_etl
from seed.run import generate_raw_files
from tests.conftest import AS_OF, differing_tables

ROOT = Path(__file__).resolve().parent.parent

READER = r"""
import json, sys, time
from pathlib import Path
from crm360.store import Database, NoDatabase
db = Database(Path(sys.argv[1]))
deadline = time.time() + float(sys.argv[2])
seen, errors, checks = set(), [], 0
while time.time() < deadline:
    try:
        run_id, customers, loaded, summary = db.row(
            "SELECT (SELECT run_id FROM dataset_info), (SELECT count(*) FROM customers), "
            "(SELECT rows_loaded FROM etl_runs WHERE run_id = (SELECT run_id FROM dataset_info) "
            " AND entity = 'customers'), (SELECT count(*) FROM customer_summary)")
        if not customers == loaded == summary:
            errors.append(f"inconsistent snapshot {run_id}: {customers} {loaded} {summary}")
        seen.add(run_id)
        checks += 1
    except NoDatabase:
        pass
    except Exception as error:
        errors.append(repr(error))
print(json.dumps({"seen": sorted(seen), "errors": errors[:5], "checks": checks}))
"""


def _raw(tmp_path: Path, customers: int) -> Path:
    return generate_raw_files(customers, seed=customers, as_of=AS_OF, out=tmp_path / f"raw{customers}") \
        and tmp_path / f"raw{customers}"


def test_published_path_opens_with_any_duckdb_client_and_readers_switch_on_publish(tmp_path):
    db_path = tmp_path / "db" / "crm.duckdb"
    first = run_etl(LoadParams(raw_dir=_raw(tmp_path, 200), db_path=db_path))
    plain = duckdb.connect(str(db_path), read_only=True)
    assert plain.execute("SELECT run_id FROM dataset_info").fetchone()[0] == first.run_id
    db = Database(db_path)
    assert db.row("SELECT count(*) FROM customers")[0] == 200
    time.sleep(1)  # run ids have one-second resolution
    second = run_etl(LoadParams(raw_dir=_raw(tmp_path, 300), db_path=db_path))
    # The app's handle sees the new version at its next query; an old connection keeps its
    # consistent snapshot of the old one.
    assert db.row("SELECT count(*) FROM customers")[0] == 300
    assert plain.execute("SELECT count(*) FROM customers").fetchone()[0] == 200
    fresh = duckdb.connect(str(db_path), read_only=True)
    assert fresh.execute("SELECT run_id FROM dataset_info").fetchone()[0] == second.run_id
    runs = db.row("SELECT count(DISTINCT run_id) FROM etl_runs")[0]
    assert runs == 2  # the history of runs is carried into each new version


def test_memos_are_kept_per_version_and_bounded(tmp_path, monkeypatch):
    from crm360 import store

    db_path = tmp_path / "db" / "crm.duckdb"
    run_etl(LoadParams(raw_dir=_raw(tmp_path, 100), db_path=db_path))
    db = Database(db_path)
    count = lambda snap: snap.cursor.execute("SELECT count(*) FROM customers").fetchone()[0]  # noqa: E731
    assert db.memo("customers", count) == 100
    time.sleep(1)
    run_etl(LoadParams(raw_dir=_raw(tmp_path, 150), db_path=db_path))
    assert db.memo("customers", count) == 150  # a new version is read again
    monkeypatch.setattr(store, "MEMO_ENTRIES_PER_VERSION", 3)
    for minute in range(10):
        db.memo(("overdue", minute), count)
    assert len(store._MEMO) == 3 and ("overdue", 9) in {key for _, key in store._MEMO}


def test_only_the_newest_versions_are_kept(tmp_path):
    db_path = tmp_path / "db" / "crm.duckdb"
    raw = _raw(tmp_path, 100)
    for _ in range(4):
        run_etl(LoadParams(raw_dir=raw, db_path=db_path))
    versions = all_versions(db_path)
    assert len(versions) == 2 and current_version(db_path) == versions[-1]


@pytest.mark.slow
def test_reader_process_sees_no_error_and_no_partial_database_while_etl_runs(tmp_path):
    db_path = tmp_path / "db" / "crm.duckdb"
    raws = [_raw(tmp_path, n) for n in (400, 600)]
    run_etl(LoadParams(raw_dir=raws[0], db_path=db_path))
    reader = subprocess.Popen([sys.executable, "-c", READER, str(db_path), "25"], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    time.sleep(1.5)
    for index in range(4):
        run_etl(LoadParams(raw_dir=raws[index % 2], db_path=db_path))
    result = json.loads(reader.communicate(timeout=60)[0])
    assert result["errors"] == []
    assert result["checks"] > 50
    assert len(result["seen"]) >= 3  # it read several published versions, each one whole


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", ["loading customers.csv", "loading interactions.csv", "loading complaints.csv",
                                     "building marts", "publishing"])
def test_etl_killed_at_any_stage_leaves_a_whole_database_serving_and_the_next_run_completes(tmp_path, kill_at):
    db_path = tmp_path / "db" / "crm.duckdb"
    small, large = _raw(tmp_path, 200), _raw(tmp_path, 6000)
    run_etl(LoadParams(raw_dir=small, db_path=db_path))
    before = current_version(db_path)
    etl = subprocess.Popen([sys.executable, "-m", "etl", "--raw", str(large), "--db", str(db_path)],
                           cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    for line in etl.stderr:  # the ETL's progress lines: kill it the moment it reaches the stage
        if kill_at in line:
            etl.send_signal(signal.SIGKILL)
            break
    etl.wait()
    assert etl.returncode == -signal.SIGKILL
    served = current_version(db_path)
    customers = Database(db_path).row("SELECT count(*) FROM customers")[0]
    # Killed before the swap: the old load serves; killed during it: one whole load or the other.
    assert (served, customers) == (before, 200) or (kill_at == "publishing" and customers == 6000)
    assert Database(db_path).row("SELECT count(*) FROM customer_summary")[0] == customers
    run_etl(LoadParams(raw_dir=large, db_path=db_path))
    assert Database(db_path).row("SELECT count(*) FROM customers")[0] == 6000
    assert not list(db_path.parent.glob("*.building*"))


def test_two_runs_on_the_same_files_give_the_same_tables(tmp_path):
    raw = _raw(tmp_path, 500)
    first, second = tmp_path / "a" / "crm.duckdb", tmp_path / "b" / "crm.duckdb"
    for db_path in (first, second):
        run_etl(LoadParams(raw_dir=raw, db_path=db_path))
    tables, different = differing_tables(first, second)
    assert {"customers", "interactions", "purchases", "customer_summary", "outreach_candidates", "trend_orders",
            "quarantine"} <= set(tables)
    assert not different, different


def test_history_from_an_older_database_with_other_columns_is_carried_not_fatal(tmp_path):
    db_path = tmp_path / "db" / "crm.duckdb"
    raw = _raw(tmp_path, 100)
    run_etl(LoadParams(raw_dir=raw, db_path=db_path))
    # Simulate a database written by an older release: a renamed bookkeeping column.
    old = current_version(db_path)
    con = duckdb.connect(str(old))
    con.execute("ALTER TABLE etl_runs RENAME COLUMN checksum TO sha256")
    con.close()
    run_etl(LoadParams(raw_dir=raw, db_path=db_path))
    db = Database(db_path)
    assert db.row("SELECT count(DISTINCT run_id) FROM etl_runs")[0] == 2
    assert db.row("SELECT count(*) FROM etl_runs WHERE checksum IS NULL")[0] == 8  # the old run's files
