"""A real data set through a mapping alone: the CDNOW purchase log (a headerless,
space-separated order log with no order numbers and no customer file) becomes customers with
their value and segments."""
from pathlib import Path

import pytest

from etl.mapping import read_mapping
from tests.conftest import load_dir

ROOT = Path(__file__).resolve().parent.parent
CDNOW = ROOT / "tests" / "data" / "cdnow"
MAPPING = ROOT / "etl" / "mappings" / "cdnow.toml"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    return load_dir(CDNOW, tmp_path_factory.mktemp("cdnow"), mapping=MAPPING)


def test_the_log_loads_every_line_as_an_order_of_its_customer(loaded):
    db, report = loaded
    assert db.row("SELECT count(*) FROM customers")[0] == 2_357
    assert db.row("SELECT count(*) FROM purchases")[0] == 6_919 - report.files[-1].counts.rows_duplicate
    first = db.row("SELECT customer_id, ordered_at::DATE, quantity, net_amount_try FROM purchases "
                   "WHERE order_id = 1")
    assert (first[0], str(first[1]), first[2], float(first[3])) == (4, "1997-01-01", 2, 29.33)
    assert db.row("SELECT min(signup_date), max(signup_date) FROM customers")[0].isoformat() == "1997-01-01"
    assert not report.failures and all(f.counts.reconciles for f in report.files)
    assert report.files[0].source.file == "customers from CDNOW_sample.txt"


def test_the_app_sees_their_value_and_segments(loaded):
    db, _ = loaded
    summary = db.row("""SELECT count(*), count(predicted_clv_12m), count(DISTINCT rfm_segment),
                               count(*) FILTER (WHERE loyalty_tier IS NOT NULL)
                        FROM customer_summary""")
    assert summary[0] == 2_357 and summary[1] == 2_357 and summary[2] >= 8
    assert db.row("SELECT bool_and(converged) FROM model_fits WHERE purpose = 'scoring'")[0]
    # Nobody in the log consented to anything: no marketing reason may reach them.
    assert db.row("SELECT count(*) FROM outreach_candidates WHERE marketing")[0] == 0
    assert db.row("SELECT count(*) FROM interactions")[0] == 0  # the log has no contacts


def test_a_mapping_without_customers_must_say_where_they_come_from(tmp_path):
    from etl.mapping import MappingError

    text = MAPPING.read_text(encoding="utf-8").replace('customers_from = "purchases"\n', "")
    (tmp_path / "m.toml").write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match="no customers source"):
        read_mapping(tmp_path / "m.toml")
