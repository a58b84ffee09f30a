"""Files stay where they belong and the load survives what disks do: a mapping reads the raw folder
and nothing else; what the product writes is readable by its owner only; a broken newest database
does not block the next load; a full disk, a read-only folder or a corrupt store ends in one line."""
from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from crm360.access import UserStore
from crm360.audit import AuditLog
from crm360.campaigns import CampaignStore
from crm360.identity_review import DecisionStore
from crm360.queries import health
from crm360.store import Database, all_versions, current_version
from etl.mapping import SEED_MAPPING, seed_sources
from etl.pipeline import LoadFailed, LoadParams, run_etl
from tests.rawfiles import write_raw

ROOT = Path(__file__).resolve().parent.parent
CUSTOMERS = [{"customer_id": 1_000_001}, {"customer_id": 1_000_002}]
OUTSIDE_CUSTOMERS = [{"customer_id": 9_000_001, "full_name": "Gizli Kayıt"}]


def _etl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "etl", *args], cwd=ROOT, capture_output=True, text=True)


def _raw_with_mapping(tmp_path: Path, entity: str, file: str) -> Path:
    """A raw folder with the seed's exports and a mapping.toml: the seed mapping with the entity's
    `file` changed."""
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS)
    seed_file = next(source.file for source in seed_sources() if source.entity == entity)
    text = SEED_MAPPING.read_text(encoding="utf-8").replace(f'file = "{seed_file}"', f"file = '{file}'")
    (raw / "mapping.toml").write_text(text, encoding="utf-8")
    return raw


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """Exports outside the raw folder (a secrets file beside it, another company's data)."""
    return write_raw(tmp_path / "elsewhere", customers=OUTSIDE_CUSTOMERS)


def _refused(raw: Path, tmp_path: Path, message: str) -> None:
    db_path = tmp_path / "db" / "crm.duckdb"
    with pytest.raises(LoadFailed) as refused:
        run_etl(LoadParams(raw_dir=raw, db_path=db_path))
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert "outside the raw folder" in str(refused.value) or "inside the raw folder" in str(refused.value)
    assert current_version(db_path) is None


# --- mapping files read the raw folder only ---------------------------------------------------

def test_an_absolute_file_in_a_mapping_is_refused_naming_the_mapping_and_field(tmp_path, elsewhere):
    raw = _raw_with_mapping(tmp_path, "customers", str(elsewhere / "customers.csv"))
    _refused(raw, tmp_path, "mapping.toml, source 4 (customers): `file`")
    result = _etl("--raw", str(raw), "--db", str(tmp_path / "cli" / "crm.duckdb"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"etl: FAILED, nothing published: mapping.toml, source 4 (customers): `file` "
        f"'{elsewhere / 'customers.csv'}' must name a file inside the raw folder (no absolute path, no `..`)"]


def test_a_file_reaching_out_with_dot_dot_is_refused(tmp_path, elsewhere):
    raw = _raw_with_mapping(tmp_path, "customers", "../elsewhere/customers.csv")
    _refused(raw, tmp_path, "mapping.toml, source 4 (customers): `file` '../elsewhere/customers.csv'")


def test_a_symbolic_link_leading_outside_the_raw_folder_is_refused(tmp_path, elsewhere):
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS)  # the seed's own mapping, no mapping file
    (raw / "customers.csv").unlink()
    (raw / "customers.csv").symlink_to(elsewhere / "customers.csv")
    _refused(raw, tmp_path, f"seed.toml, source 4 (customers): `file` 'customers.csv' is a link that leads to "
                            f"{elsewhere / 'customers.csv'}")


def test_a_pattern_matching_a_link_that_leads_outside_is_refused(tmp_path, elsewhere):
    raw = _raw_with_mapping(tmp_path, "interactions", "interactions*.csv")
    (raw / "interactions-old.csv").symlink_to(elsewhere / "interactions.csv")
    _refused(raw, tmp_path, "mapping.toml, source 5 (interactions): `file` 'interactions*.csv' matches "
                            "interactions-old.csv, which leads to")


def test_a_link_inside_the_raw_folder_to_a_file_inside_it_loads(tmp_path):
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS)
    (raw / "exports").mkdir()
    (raw / "customers.csv").rename(raw / "exports" / "customers-2026-06.csv")
    (raw / "customers.csv").symlink_to(Path("exports") / "customers-2026-06.csv")
    db_path = tmp_path / "db" / "crm.duckdb"
    run_etl(LoadParams(raw_dir=raw, db_path=db_path))
    db = Database(db_path)
    assert db.row("SELECT count(*) FROM customers")[0] == 2
    db.close()


# --- what the product writes is readable by its owner only ------------------------------------

@pytest.fixture
def permissive_umask():
    """The usual umask (022), under which files would be world-readable unless made otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_the_etl_writes_folders_0700_and_database_files_0600(tmp_path, permissive_umask):
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS)
    data = tmp_path / "made" / "db"
    DecisionStore(data / "identity_decisions.sqlite").decide(1_000_001, 1_000_002, False, "admin")
    for _ in range(2):
        run_etl(LoadParams(raw_dir=raw, db_path=data / "crm.duckdb"))
    assert _mode(tmp_path / "made") == _mode(data) == 0o700
    files = [path for path in data.iterdir() if not path.is_symlink()]
    assert {path.name for path in files} >= {*(v.name for v in all_versions(data / "crm.duckdb")),
                                             "crm.duckdb.etl.lock", "identity_decisions.sqlite"}
    assert {path.name: _mode(path) for path in files} == {path.name: 0o600 for path in files}


@pytest.mark.parametrize("store_class", [UserStore, AuditLog, CampaignStore, DecisionStore])
def test_every_app_store_and_its_wal_files_are_0600_in_a_0700_folder(tmp_path, permissive_umask, store_class):
    path = tmp_path / "new" / "stores" / "store.sqlite"
    store = store_class(path)
    with sqlite3.connect(path) as reader:  # an open reader keeps the -wal and -shm files there
        reader.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if isinstance(store, UserStore):
            store.add("ayse", "admin", "a long enough password 1")
        elif isinstance(store, AuditLog):
            store.record("ayse", "admin", "sign_in")
        else:
            with store._write() as con:
                con.execute("CREATE TABLE IF NOT EXISTS touched (x)")
        made = sorted(path.parent.iterdir())
        key = ["store.sqlite.key"] if isinstance(store, AuditLog) else []  # the fingerprint key (crm360/audit.py)
        assert [p.name for p in made] == ["store.sqlite", "store.sqlite-shm", "store.sqlite-wal", *key]
        assert [_mode(p) for p in made] == [0o600] * (3 + len(key))
    assert _mode(tmp_path / "new") == _mode(path.parent) == 0o700


def test_a_store_made_world_readable_by_an_earlier_release_is_narrowed(tmp_path, permissive_umask):
    path = tmp_path / "users.sqlite"
    UserStore(path).add("ayse", "admin", "a long enough password 1")
    os.chmod(path, 0o644)
    UserStore(path)
    assert _mode(path) == 0o600  # password hashes are never world-readable


# --- a broken newest database does not block later loads --------------------------------------

def test_a_truncated_newest_database_is_passed_over_with_one_line_and_history_comes_along(tmp_path):
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS)
    db_path = tmp_path / "db" / "crm.duckdb"
    first = run_etl(LoadParams(raw_dir=raw, db_path=db_path))
    second = run_etl(LoadParams(raw_dir=raw, db_path=db_path))
    newest = current_version(db_path)
    with open(newest, "r+b") as handle:
        handle.truncate(newest.stat().st_size // 2)
    result = _etl("--raw", str(raw), "--db", str(db_path))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "cannot be read" in line]
    older = first.published.name
    assert len(warnings) == 1 and newest.name in warnings[0] and f"history and kept tables come from {older}" \
        in warnings[0]
    assert current_version(db_path) not in (newest, first.published)
    # Pruning drops the truncated file and keeps the readable one a later run can fall back on.
    assert all_versions(db_path) == [first.published, current_version(db_path)]
    db = Database(db_path)
    runs = db.frame("SELECT run_id, source_file, failure FROM etl_runs WHERE entity = 'database'")
    # The first run's history is carried, this run's is added, and the second run, whose records
    # were in the truncated file, stays in the history as a run whose database was lost.
    assert runs.rows() == [(f"unreadable {newest.name}", newest.name, runs["failure"][0])]
    assert runs["failure"][0].startswith("the database this run published cannot be read")
    ids = db.frame("SELECT DISTINCT run_id FROM etl_runs")["run_id"].to_list()
    assert first.run_id in ids and second.run_id not in ids and len(ids) == 3
    assert health.recent_runs(db).height == 3 and health.run_files(db, f"unreadable {newest.name}")["reconciles"].all()
    db.close()


def test_with_no_readable_earlier_version_the_load_still_publishes(tmp_path):
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS)
    db_path = tmp_path / "db" / "crm.duckdb"
    run_etl(LoadParams(raw_dir=raw, db_path=db_path))
    current_version(db_path).write_bytes(b"not a database")
    said: list[str] = []
    report = run_etl(LoadParams(raw_dir=raw, db_path=db_path), progress=said.append)
    assert report.published == current_version(db_path)
    assert next(line for line in said if "cannot be read" in line).endswith("the run history starts again here")


# --- full disk, read-only folder, corrupt store: one line, exit 1 -----------------------------

def _in_a_private_mount(options: str, folder: Path, *etl_args: str) -> subprocess.CompletedProcess:
    """`python -m etl` with a tmpfs mounted on `folder` in a mount namespace of its own (it vanishes
    with the process). Needs the right to mount: root, as the tests run here, where chmod would not
    stop a write."""
    if shutil.which("unshare") is None:
        pytest.skip("no unshare command to mount a tmpfs")
    folder.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "mount", "-t", "tmpfs",
                            "-o", options, "tmpfs", str(folder)], capture_output=True)
    if probe.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {probe.stderr.decode().strip()}")
    command = " ".join(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder), "&&", "exec",
                        sys.executable, "-m", "etl", *etl_args])
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", command],
                          cwd=ROOT, capture_output=True, text=True)


def _ends_in_one_line(result: subprocess.CompletedProcess, *expected: str) -> str:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("etl: FAILED, nothing published") and all(text in last for text in expected), last
    return last


def test_a_full_disk_ends_in_one_line_saying_what_and_where(tmp_path):
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS)
    disk = tmp_path / "full"
    result = _in_a_private_mount("size=256k", disk, "--raw", str(raw), "--db", str(disk / "crm.duckdb"))
    _ends_in_one_line(result, "No space left on device", str(disk))


def test_a_read_only_folder_ends_in_one_line_before_anything_is_loaded(tmp_path):
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS)
    folder = tmp_path / "read-only"
    for db_path in (folder / "crm.duckdb", folder / "new" / "crm.duckdb"):
        result = _in_a_private_mount("ro,size=256k", folder, "--raw", str(raw), "--db", str(db_path))
        _ends_in_one_line(result, "Read-only file system", str(db_path.parent))
        assert "loading" not in result.stderr


def test_a_corrupt_decisions_store_ends_in_one_line_naming_it(tmp_path):
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS)
    db_path = tmp_path / "db" / "crm.duckdb"
    run_etl(LoadParams(raw_dir=raw, db_path=db_path))
    decisions = db_path.with_name("identity_decisions.sqlite")
    decisions.write_bytes(b"this is not a SQLite database, it was overwritten" * 100)
    result = _etl("--raw", str(raw), "--db", str(db_path))
    _ends_in_one_line(result, str(decisions), "cannot read the duplicate review decisions")
    assert result.stderr.count("\n") <= 2  # the mapping line, then the one line


# --- command-line mistakes ----------------------------------------------------------------------

def test_a_db_that_names_a_folder_or_sits_under_a_file_is_refused_before_loading(tmp_path):
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS)
    (tmp_path / "a-file").write_text("x")
    for db_path, message in ((tmp_path, "is a folder; name the database file in it"),
                             (tmp_path / "a-file" / "crm.duckdb", "cannot make the database folder"),
                             (tmp_path / "a-file", "is a plain file")):
        result = _etl("--raw", str(raw), "--db", str(db_path))
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert result.stderr.strip().splitlines() == [result.stderr.strip()] and message in result.stderr


def test_a_db_in_a_folder_that_does_not_exist_yet_makes_it_for_its_owner_only(tmp_path, permissive_umask):
    raw = write_raw(tmp_path / "raw", customers=CUSTOMERS)
    result = _etl("--raw", str(raw), "--db", str(tmp_path / "new" / "crm.duckdb"))
    assert result.returncode == 0, result.stderr
    assert _mode(tmp_path / "new") == 0o700


@pytest.mark.parametrize("share", ["1.5", "-0.1", "five", "nan"])
def test_max_rejected_outside_0_to_1_is_refused(tmp_path, share):
    result = _etl("--raw", str(tmp_path), "--db", str(tmp_path / "crm.duckdb"), "--max-rejected", share)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [  # one line, as the README promises: no usage block
        f"python -m etl: --max-rejected: “{share}” is not a share between 0 and 1 (0.05 is 5%) "
        "(`python -m etl --help` lists the options)"]


def test_a_raw_folder_that_is_a_file_is_named_as_such(tmp_path):
    (tmp_path / "passwd").write_text("root:x:0:0\n")
    result = _etl("--raw", str(tmp_path / "passwd"), "--db", str(tmp_path / "crm.duckdb"))
    assert result.returncode == 1 and result.stderr.strip().splitlines() == [
        f"etl: raw directory {tmp_path / 'passwd'} is a file, not a folder; `python -m seed --out DIR` writes one"]
