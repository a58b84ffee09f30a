"""Shared fixtures: a small seeded company loaded through the real ETL, built once per session."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from crm360.store import Database, current_version
from etl.pipeline import LoadParams, run_etl
from seed.run import generate_raw_files

AS_OF = datetime(2026, 6, 30, 12, 0)
SMALL_CUSTOMERS = 1_500


@pytest.fixture(autouse=True)
def local_mode(monkeypatch, tmp_path_factory) -> None:
    """Pages run without sign-in (CRM_AUTH=none) unless a test signs in itself (tests/test_access.py),
    and the user store and audit log of a test stay out of the project's data directory."""
    stores = tmp_path_factory.mktemp("stores")
    monkeypatch.setenv("CRM_AUTH", "none")
    monkeypatch.setenv("CRM_USERS", str(stores / "users.sqlite"))
    monkeypatch.setenv("CRM_AUDIT", str(stores / "audit.sqlite"))
    monkeypatch.setenv("CRM_DESK", str(stores / "desk.sqlite"))  # never beside the shared test database


@pytest.fixture(scope="session")
def small_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("raw")
    generate_raw_files(SMALL_CUSTOMERS, seed=11, as_of=AS_OF, out=out)
    return out


@pytest.fixture(scope="session")
def small_db_path(small_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db_path = tmp_path_factory.mktemp("db") / "crm.duckdb"
    run_etl(LoadParams(raw_dir=small_raw, db_path=db_path))
    return db_path


@pytest.fixture(scope="session")
def small_db(small_db_path: Path) -> Database:
    db = Database(small_db_path)
    yield db
    db.close()


def load_dir(raw: Path, tmp_path: Path, **kwargs) -> tuple[Database, object]:
    """Run the ETL on a hand-built raw directory; returns the database and the run report."""
    db_path = tmp_path / "db" / "crm.duckdb"
    report = run_etl(LoadParams(raw_dir=raw, db_path=db_path, **kwargs))
    return Database(db_path), report


# Bookkeeping of a run itself (its id, times, durations) differs by nature; everything loaded or
# computed from the files must not.
RUN_BOOKKEEPING = {"dataset_info", "etl_runs", "etl_run_stages", "model_fits"}


def differing_tables(first: Path, second: Path) -> tuple[list[str], list[str]]:
    """The tables of two published databases, and those whose rows differ (bookkeeping aside)."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{current_version(first)}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{current_version(second)}' AS b (READ_ONLY)")
    tables = [row[0] for row in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = 'a' ORDER BY table_name").fetchall()]
    different = []
    for table in sorted(set(tables) - RUN_BOOKKEEPING):
        columns = [row[0] for row in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = 'a' AND table_name = ? "
            "AND column_name NOT IN ('run_id', 'loaded_at')", [table]).fetchall()]
        listed = ", ".join(f'"{c}"' for c in columns)
        changed = con.execute(f"""SELECT count(*) FROM (
            (SELECT {listed} FROM a.{table} EXCEPT ALL SELECT {listed} FROM b.{table})
            UNION ALL (SELECT {listed} FROM b.{table} EXCEPT ALL SELECT {listed} FROM a.{table}))""").fetchone()[0]
        if changed:
            different.append(f"{table}: {changed} rows")
    con.close()
    return tables, different


def sign_in_session(app, user) -> None:
    """Sign `user` into an AppTest session as the sign-in form would: the user must exist, active,
    in the user store (crm360.session checks it on every page run)."""
    from crm360 import access

    store = access.UserStore(access.store_path())
    if store.active_role(user.user_name) is None:
        store.add(user.user_name, user.role, "a long enough password 1")
    elif store.active_role(user.user_name) != user.role:
        store.set_role(user.user_name, user.role)
    app.session_state["signed_in_user"] = user
