"""Phones, e-mails and names are normalised the same way by the ETL (SQL) and the search (Python)."""
import duckdb
import pytest

from crm360.textnorm import (
    fold_text,
    fold_text_sql,
    mask_phone,
    normalize_email,
    normalize_phone,
    normalize_phone_sql,
    parse_amount,
)

SAME_NUMBER = [
    "+90 532 123 45 67", "0532 123 4567", "5321234567", "0532-123-45-67", "(0532) 123 45 67",
    "90 532 1234567", "0090 532 123 4567", "+90(532)123-45-67", "532.123.45.67", "+905321234567",
    " 0532 123 45 67 ",
]
NOT_PHONES = ["12345", "", "abc", "6321234567", "0532 123 45 6", "tel 0532 123 45 67",
              "05321234567890123", "+90 532 123 45 678"]


@pytest.mark.parametrize("typed", SAME_NUMBER)
def test_turkish_mobile_typed_any_common_way_becomes_e164(typed):
    assert normalize_phone(typed) == "+905321234567"


@pytest.mark.parametrize("typed", NOT_PHONES)
def test_text_that_is_not_a_phone_number_gives_none(typed):
    assert normalize_phone(typed) is None


def test_landline_and_foreign_numbers():
    assert normalize_phone("0 212 555 12 12") == "+902125551212"
    assert normalize_phone("+49 30 1234567") == "+49301234567"
    assert normalize_phone("0049 30 1234567") == "+49301234567"


def _sql(expression: str, value: str):
    return duckdb.connect().execute(f"SELECT {expression} FROM (SELECT ?::VARCHAR AS x)",
                                    [value]).fetchone()[0]


@pytest.mark.parametrize("typed", [*SAME_NUMBER, *NOT_PHONES, "0 212 555 12 12", "+49 30 1234567",
                                   "0049 30 1234567", "00", "+", "+90", "0"])
def test_sql_and_python_phone_normalisation_agree(typed):
    assert _sql(normalize_phone_sql("x"), typed) == normalize_phone(typed)


@pytest.mark.parametrize("name", ["IŞIK İNCE", "ışık ince", "Şükrü Öğüt", "ÇAĞLA  Ünal",
                                  "  Ayşe\tYılmaz ", "Âdem Îlhan"])
def test_sql_and_python_fold_agree(name):
    assert _sql(fold_text_sql("x"), name) == fold_text(name)


def test_fold_removes_case_and_turkish_letters_both_ways():
    assert fold_text("IŞIK İNCE") == fold_text("isik ince") == "isik ince"
    assert fold_text("Şükrü Öğüt Çağrı") == "sukru ogut cagri"
    assert fold_text("AYŞE   YILMAZ") == "ayse yilmaz"


def test_email_is_trimmed_and_lower_cased_or_rejected():
    assert normalize_email("  Ayse.Yilmaz@Gmail.COM ") == "ayse.yilmaz@gmail.com"
    assert normalize_email("ayse.gmail.com") is None
    assert normalize_email("a b@c.com") is None


def test_masked_phone_keeps_operator_and_last_two_digits():
    assert mask_phone("+905321234567") == "0532 *** ** 67"
    assert mask_phone("+442071234567") == "00442***67"
    assert mask_phone(None) == "—"


@pytest.mark.parametrize(("typed", "amount"), [
    ("49,90", 49.9), ("49.90", 49.9), ("1.234,56", 1234.56), ("1 234,56", 1234.56), ("1,234.56", 1234.56),
    ("1234", 1234.0), ("12,5", 12.5), ("₺ 49,90", 49.9), ("", None), ("   ", None)])
def test_amounts_are_read_as_a_turkish_agent_types_them(typed, amount):
    assert parse_amount(typed) == amount


@pytest.mark.parametrize("typed", ["1.234", "abc", "49,901", "-5", "1e3", "49.9.9",
                                   pytest.param("1" * 10_000, id="ten-thousand-digits")])
def test_an_unclear_or_malformed_amount_is_refused_with_what_to_write(typed):
    with pytest.raises(ValueError, match="write"):
        parse_amount(typed)
