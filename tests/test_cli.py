"""The command lines a person types: exit status, the summary table, the clear failure line."""
import subprocess
import sys
from pathlib import Path

import duckdb

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
    assert "read = loaded + duplicates + rejected for every file: yes" in loaded.stdout
    assert "interactions.csv" in loaded.stdout and "loading interactions.csv" in loaded.stderr
    con = duckdb.connect(str(tmp_path / "crm.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM customers").fetchone()[0] > 290


def test_etl_exits_non_zero_with_one_clear_line_when_a_file_is_broken(tmp_path):
    raw = write_raw(tmp_path / "raw", customers=[{"customer_id": 1000001}])
    (raw / "complaints.csv").write_bytes(b"")
    result = _run("-m", "etl", "--raw", str(raw), "--db", str(tmp_path / "crm.duckdb"))
    assert result.returncode == 1
    assert "etl: FAILED, nothing published: complaints.csv: file is empty" in result.stderr
    assert "Traceback" not in result.stderr


def test_etl_on_a_missing_directory_says_how_to_make_one(tmp_path):
    result = _run("-m", "etl", "--raw", str(tmp_path / "nope"), "--db", str(tmp_path / "crm.duckdb"))
    assert result.returncode == 1 and "python -m seed" in result.stderr


def test_seed_rejects_a_nonsense_customer_count(tmp_path):
    result = _run("-m", "seed", "--customers", "0", "--out", str(tmp_path))
    assert result.returncode == 2 and "--customers must be at least 1" in result.stderr
