"""The synthetic company behaves like a business, and the same seed gives the same bytes."""
import hashlib
import os
import stat
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

import seed.__main__ as seed_main
from crm360 import config
from seed.export import SEED_FILES, SEED_MARKER
from seed.run import generate_raw_files

AS_OF = datetime(2026, 6, 30, 12, 0)


def _digests(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_same_seed_same_bytes_and_other_seed_other_bytes(tmp_path):
    generate_raw_files(300, seed=5, as_of=AS_OF, out=tmp_path / "a")
    generate_raw_files(300, seed=5, as_of=AS_OF, out=tmp_path / "b")
    generate_raw_files(300, seed=6, as_of=AS_OF, out=tmp_path / "c")
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    assert _digests(tmp_path / "a")["interactions.csv"] != _digests(tmp_path / "c")["interactions.csv"]


@pytest.fixture(scope="module")
def company(small_raw):
    con = duckdb.connect()
    con.execute(f"CREATE VIEW purchases AS SELECT * FROM read_parquet('{small_raw}/purchases.parquet')")
    con.execute(f"CREATE VIEW interactions AS SELECT * FROM read_csv('{small_raw}/interactions.csv', "
                "ignore_errors = true)")
    con.execute(f"CREATE VIEW complaints AS SELECT * FROM read_csv('{small_raw}/complaints.csv', "
                "delim = ';', ignore_errors = true, all_varchar = true)")
    con.execute(f"CREATE VIEW customers AS SELECT * FROM read_csv('{small_raw}/customers.csv', "
                "all_varchar = true)")
    return con


def test_spend_is_skewed_few_customers_bring_much_of_the_revenue(company):
    top_share = company.execute("""
        WITH spend AS (SELECT customer_id, sum(net_amount_try) AS revenue FROM purchases
                       WHERE status = 'completed' GROUP BY 1),
             ranked AS (SELECT revenue, ntile(5) OVER (ORDER BY revenue DESC) AS quintile FROM spend)
        SELECT sum(revenue) FILTER (WHERE quintile = 1) / sum(revenue) FROM ranked""").fetchone()[0]
    assert top_share > 0.5


def test_customers_differ_in_rate_and_some_stop_buying(company, small_raw):
    stopped, repeat = company.execute(f"""
        SELECT avg(((TIMESTAMP '{AS_OF}' - last) > INTERVAL 180 DAY)::INTEGER),
               avg((orders > 1)::INTEGER)
        FROM (SELECT customer_id, max(ordered_at) AS last, count(*) AS orders
              FROM purchases GROUP BY 1)""").fetchone()
    assert 0.1 < stopped < 0.9
    assert repeat > 0.3


def test_all_seven_channels_with_phone_most_common(company):
    mix = company.execute("SELECT channel, count(*) FROM interactions GROUP BY 1 ORDER BY 2 DESC").fetchall()
    channels = [name for name, _ in mix if name in config.CHANNELS]
    assert set(channels) == set(config.CHANNELS)
    assert channels[0] == "phone"


def test_weekly_and_yearly_seasonality_in_purchases(company):
    weekend_ratio = company.execute("""
        SELECT (count(*) FILTER (WHERE isodow(ordered_at) >= 6) / 2.0)
               / (count(*) FILTER (WHERE isodow(ordered_at) < 6) / 5.0) FROM purchases""").fetchone()[0]
    assert weekend_ratio > 1.1
    november_ratio = company.execute("""
        SELECT (count(*) FILTER (WHERE month(ordered_at) IN (11, 12)) / 2.0)
               / (count(*) FILTER (WHERE month(ordered_at) IN (6, 7, 8)) / 3.0) FROM purchases
        WHERE ordered_at < TIMESTAMP '2026-01-01'""").fetchone()[0]
    assert november_ratio > 1.2


def test_complaints_miss_the_promise_sometimes_and_some_resolve_at_first_contact(company):
    late, first_contact = company.execute("""
        WITH c AS (SELECT strptime("Açılış Tarihi", '%d.%m.%Y %H:%M') AS opened,
                          try_strptime("İlk Yanıt Tarihi", '%d.%m.%Y %H:%M') AS answered,
                          try_strptime("Çözüm Tarihi", '%d.%m.%Y %H:%M') AS resolved
                   FROM complaints WHERE "Açılış Tarihi" <> 'yanlış tarih')
        SELECT avg((answered > opened + INTERVAL 24 HOUR)::INTEGER),
               avg((resolved = answered)::INTEGER) FROM c WHERE answered IS NOT NULL""").fetchone()
    assert 0.03 < late < 0.3
    assert 0.2 < first_contact < 0.5


def test_returns_consents_withdrawn_and_defect_complaints_exist(company, small_raw):
    assert company.execute("SELECT count(*) FROM purchases WHERE status = 'returned'").fetchone()[0] > 0
    withdrawn = company.execute("""SELECT count(*) FROM customers
        WHERE consent_email = 'false' AND consent_email_at <> ''""").fetchone()[0]
    assert withdrawn > 0
    issues = pl.read_csv(small_raw / "product_issues.csv")
    assert issues["fix_shipped_at"].null_count() >= 1 and issues["fix_shipped_at"].drop_nulls().len() >= 2
    complained = company.execute("""SELECT count(*) FROM complaints
        WHERE "Kategori" = 'defective_product' AND "Ürün Kodu" IN (SELECT unnest(?))""",
                                 [[str(p) for p in issues["product_id"]]]).fetchone()[0]
    assert complained > 0


def test_turkish_names_provinces_and_phone_typings(company):
    names = [row[0] for row in company.execute("SELECT full_name FROM customers LIMIT 500").fetchall()]
    assert any(ch in "".join(names) for ch in "ŞşĞğİı")
    cities = {row[0] for row in company.execute("SELECT DISTINCT city FROM customers").fetchall()}
    assert "İstanbul" in cities and len(cities) > 40
    phones = [row[0] for row in company.execute("SELECT phone FROM customers WHERE phone IS NOT NULL").fetchall()]
    assert any(p.startswith("+90 ") for p in phones) and any(p.startswith("(0") for p in phones)


# --- the seed never writes over files it did not write; what it writes is its owner's only -----

def _seed(capsys, out: Path) -> tuple[int, str]:
    code = seed_main.main(["--customers", "30", "--seed", "3", "--as-of", "2026-06-30", "--out", str(out)])
    return code, capsys.readouterr().err


def test_the_seed_refuses_a_folder_holding_files_it_did_not_write_and_rewrites_its_own(tmp_path, capsys):
    exports = tmp_path / "raw"
    exports.mkdir()
    (exports / "customers.csv").write_text("customer_id,full_name\n1,A real customer\n")
    code, err = _seed(capsys, exports)
    assert code == 1 and err.strip().splitlines() == [
        f"seed: --out {exports} holds files the seed did not write (customers.csv); it writes only into an empty "
        "folder or one it wrote before: choose another with `--out DIR`"]
    assert [path.name for path in exports.iterdir()] == ["customers.csv"]
    assert (exports / "customers.csv").read_text() == "customer_id,full_name\n1,A real customer\n"
    demo = tmp_path / "demo"
    assert _seed(capsys, demo)[0] == 0 and _seed(capsys, demo)[0] == 0  # `make demo` twice
    assert "python -m seed" in (demo / SEED_MARKER).read_text()
    (demo / SEED_MARKER).unlink()  # a folder seeded before the marker existed: only its files, its manifest
    assert _seed(capsys, demo)[0] == 0 and (demo / SEED_MARKER).is_file()
    (demo / SEED_MARKER).unlink()
    (demo / "orders-2026-10.csv").write_text("Name\n#1\n")
    code, err = _seed(capsys, demo)
    assert code == 1 and "holds files the seed did not write (orders-2026-10.csv, agents.csv" in err


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_seed_writes_its_folder_0700_and_its_files_0600(tmp_path, capsys):
    previous = os.umask(0o022)  # the usual umask, under which files would be world-readable
    try:
        assert _seed(capsys, tmp_path / "made" / "raw")[0] == 0
        earlier = tmp_path / "earlier"  # written by a release that left it world-readable
        assert _seed(capsys, earlier)[0] == 0
        os.chmod(earlier, 0o755)
        for path in earlier.iterdir():
            os.chmod(path, 0o644)
        assert _seed(capsys, earlier)[0] == 0
    finally:
        os.umask(previous)
    for folder in (tmp_path / "made" / "raw", earlier):
        assert _mode(folder) == 0o700
        assert {path.name: _mode(path) for path in folder.iterdir()} == {name: 0o600 for name in
                                                                         {*SEED_FILES, SEED_MARKER}}
    assert _mode(tmp_path / "made") == 0o700
