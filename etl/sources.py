"""The raw sources the ETL knows: file, format, the column each export header maps to, and the
natural key that makes a row a duplicate. Adding a source means adding an entry here and its
`sql/staging/stg_<entity>.sql`."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Source:
    entity: str                      # core table this source feeds
    file: str                        # file name in the raw directory
    format: str                      # csv | parquet | jsonl
    columns: dict[str, str]          # export header -> canonical column
    key: tuple[str, ...]             # natural key: rows sharing it are duplicates
    delimiter: str = ","
    order_by: tuple[str, ...] = ()   # clustering order of the core table
    optional_columns: frozenset[str] = field(default_factory=frozenset)
    # Columns the CSV reader types itself (canonical name -> DuckDB type). Typing in the reader
    # is several times faster than casting text in SQL; a value that does not parse makes the
    # reader reject the row, with its line and the column, which is what a missing key or
    # timestamp deserves anyway. Numbers are typed too: a CSAT of "abc" rejects its row rather than
    # clearing the value (a CSAT of 7 is still cleared by the staging model's range check), the
    # price of loading 30 M contacts within twice the time of a plain copy. Flags, codes and
    # dates in Turkish formats stay text and are checked in the staging model.
    reader_types: dict[str, str] = field(default_factory=dict)
    timestamp_format: str | None = None


def _same(*names: str) -> dict[str, str]:
    return {name: name for name in names}


SOURCES: tuple[Source, ...] = (
    Source("agents", "agents.csv", "csv", _same("agent_id", "full_name", "team"), ("agent_id",),
           order_by=("agent_id",)),
    Source("products", "products.jsonl", "jsonl",
           _same("product_id", "name", "category", "list_price_try"), ("product_id",),
           order_by=("product_id",)),
    Source("product_issues", "product_issues.csv", "csv",
           _same("issue_id", "product_id", "title", "reported_at", "fix_shipped_at",
                 "fix_description"), ("issue_id",), order_by=("issue_id",)),
    Source("customers", "customers.csv", "csv",
           _same("customer_id", "full_name", "email", "phone", "city", "birth_date",
                 "signup_date", "preferred_channel", "language", "consent_email",
                 "consent_email_at", "consent_sms", "consent_sms_at", "consent_phone",
                 "consent_phone_at", "do_not_contact", "do_not_contact_at"),
           ("customer_id",), order_by=("customer_id",), reader_types={"customer_id": "BIGINT"}),
    Source("interactions", "interactions.csv", "csv",
           _same("interaction_id", "customer_id", "started_at", "channel", "direction", "topic",
                 "agent_id", "duration_seconds", "resolved_on_first_contact", "csat", "notes"),
           ("interaction_id",), order_by=("customer_id", "started_at"),
           reader_types={"interaction_id": "BIGINT", "customer_id": "BIGINT", "started_at": "TIMESTAMP",
                         "duration_seconds": "INTEGER", "csat": "INTEGER"}),
    Source("purchases", "purchases.parquet", "parquet",
           _same("order_id", "customer_id", "ordered_at", "product_id", "category", "quantity",
                 "net_amount_try", "sales_channel", "status"),
           ("order_id",), order_by=("customer_id", "ordered_at")),
    Source("complaints", "complaints.csv", "csv",
           {"Şikayet No": "complaint_id", "Müşteri No": "customer_id",
            "Açılış Tarihi": "opened_at", "Kanal": "channel", "Kategori": "category",
            "Önem Derecesi": "severity", "Ürün Kodu": "product_id",
            "İlk Yanıt Tarihi": "first_response_at", "Çözüm Tarihi": "resolved_at",
            "Durum": "status", "Çözüm": "resolution",
            "Çözüm Sonrası Memnuniyet": "satisfaction_after",
            "İade Tutarı (TL)": "refund_amount_try", "Açıklama": "description"},
           ("complaint_id",), delimiter=";", order_by=("customer_id", "opened_at"),
           reader_types={"complaint_id": "BIGINT", "customer_id": "BIGINT"}),
    Source("survey_responses", "survey_responses.jsonl", "jsonl",
           _same("survey_id", "customer_id", "responded_at", "touchpoint", "nps_score",
                 "comment"), ("survey_id",), order_by=("customer_id", "responded_at"),
           optional_columns=frozenset({"comment"})),
)

SOURCE_BY_ENTITY = {source.entity: source for source in SOURCES}
