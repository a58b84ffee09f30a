"""Shared fixtures: a small seeded company loaded through the real ETL, built once per session."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from crm360.store import Database
from etl.pipeline import LoadParams, run_etl
from seed.run import generate_raw_files

AS_OF = datetime(2026, 6, 30, 12, 0)
SMALL_CUSTOMERS = 1_500


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
