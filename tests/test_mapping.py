"""Mapping files: a new export is loaded by writing a mapping, not code; a bad mapping is refused
with where and why, before anything is loaded."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from etl.mapping import SEED_MAPPING, MappingError, find_mapping, load_mapping, seed_sources
from etl.pipeline import LoadFailed, LoadParams, run_etl
from tests.conftest import load_dir
from tests.rawfiles import write_raw

ROOT = Path(__file__).resolve().parent.parent
CRM_EXPORT = """Müşteri No;Ad Soyad;E-posta;Cep Telefonu;Şehir;Tercih Edilen Kanal;Kayıt Tarihi
1000001;Ayşe Yılmaz;AYSE@example.com;0532 123 45 67;İstanbul;Telefon;2024-01-10
1000002;Mehmet Demir;mehmet@example.com;0533 222 33 44;Ankara;E-posta;11.02.2024
1000003;Zeynep Kaya;zeynep@example.com;0534 333 44 55;İzmir; sosyal medya ;2024-03-12
"""
CUSTOMERS_MAPPING = """
[[source]]
entity = "customers"
file = "crm_musteriler.csv"
format = "csv"
delimiter = ";"
key = ["customer_id"]
order_by = ["customer_id"]
[source.columns]
"Müşteri No" = "customer_id"
"Ad Soyad" = "full_name"
"E-posta" = "email"
"Cep Telefonu" = "phone"
"Şehir" = "city"
"Tercih Edilen Kanal" = "preferred_channel"
"Kayıt Tarihi" = "signup_date"
[source.values.preferred_channel]
"Telefon" = "phone"
"E-posta" = "email"
"Sosyal Medya" = "social"
"""


def _seed_mapping_without(entity: str) -> str:
    """The seed mapping's text with one entity's [[source]] block left out."""
    blocks = SEED_MAPPING.read_text(encoding="utf-8").split("[[source]]")
    return "[[source]]".join(b for b in blocks if f'entity = "{entity}"' not in b)


def test_the_seed_mapping_describes_every_seed_export():
    sources = seed_sources()
    assert [s.entity for s in sources] == ["agents", "products", "product_issues", "customers", "interactions",
                                           "purchases", "complaints", "survey_responses"]
    complaints = next(s for s in sources if s.entity == "complaints")
    assert complaints.delimiter == ";" and complaints.columns["Şikayet No"] == "complaint_id"


def test_a_new_export_loads_through_a_mapping_with_translated_values(tmp_path):
    raw = write_raw(tmp_path / "raw", customers=[])
    (raw / "customers.csv").unlink()
    (raw / "crm_musteriler.csv").write_text(CRM_EXPORT, encoding="utf-8")
    (raw / "mapping.toml").write_text(_seed_mapping_without("customers") + CUSTOMERS_MAPPING, encoding="utf-8")
    assert find_mapping(raw) == [raw / "mapping.toml"]
    db, report = load_dir(raw, tmp_path)
    assert report.mapping == [raw / "mapping.toml"]
    rows = db.frame("SELECT customer_id, full_name, email, phone, preferred_channel, consent_email, signup_date "
                    "FROM customers ORDER BY customer_id").rows()
    assert [str(r[6]) for r in rows] == ["2024-01-10", "2024-02-11", "2024-03-12"]  # ISO and dotted alike
    assert [r[4] for r in rows] == ["phone", "email", "social"]  # Turkish values, any case and spacing
    assert rows[0][2] == "ayse@example.com" and rows[0][3] == "+905321234567"  # normalised as always
    assert rows[0][5] is False  # a column the export does not have loads empty: no consent recorded


@pytest.mark.parametrize(("text", "message"), [
    ("[[source]\nentity = 'customers'", "not valid TOML"),
    ("title = 'nothing here'", "no [[source]] entries"),
    ("[[source]]\nentity = 'orders'\nfile = 'x.csv'\nkey = ['id']\ncolumns = {id = 'id'}", "unknown entity 'orders'"),
    ("[[source]]\nentity = 'purchases'\nfile = 'x.csv'\nkey = ['order_id']\ncolumns = {Id = 'order_no'}",
     "no column order_no in purchases"),
    ("[[source]]\nentity = 'purchases'\nfile = 'x.csv'\nkey = ['order_id']\ncolumns = {Id = 'customer_id'}",
     "`key` names order_id, which no export column maps to"),
    ("[[source]]\nentity = 'purchases'\nfile = 'x.xls'\nformat = 'xls'\nkey = ['order_id']\n"
     "columns = {Id = 'order_id'}", "format 'xls' is not one of"),
    ("[[source]]\nentity = 'purchases'\nkey = ['order_id']\ncolumns = {Id = 'order_id'}", "`file` is missing"),
])
def test_a_bad_mapping_is_refused_with_where_and_why(tmp_path, text, message):
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match=re.escape(message)):
        load_mapping(mapping)
    with pytest.raises(LoadFailed, match=re.escape("mapping.toml")):
        run_etl(LoadParams(raw_dir=tmp_path, db_path=tmp_path / "db" / "crm.duckdb", mapping=mapping))
    assert not (tmp_path / "db" / "crm.duckdb").exists()


def test_the_command_line_takes_a_mapping_and_says_which_it_used(tmp_path):
    raw = write_raw(tmp_path / "raw", customers=[{"customer_id": 1_000_001}])
    missing = subprocess.run([sys.executable, "-m", "etl", "--raw", str(raw), "--db", str(tmp_path / "a.duckdb"),
                              "--mapping", str(tmp_path / "nope.toml")], cwd=ROOT, capture_output=True, text=True)
    assert missing.returncode == 1 and "nope.toml: mapping file not found" in missing.stderr
    loaded = subprocess.run([sys.executable, "-m", "etl", "--raw", str(raw), "--db", str(tmp_path / "b.duckdb"),
                             "--mapping", str(SEED_MAPPING)], cwd=ROOT, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    assert f"mapping: {SEED_MAPPING}" in loaded.stdout
