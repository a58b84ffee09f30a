"""The raw sources the ETL knows: file, format, the column each export header maps to, and the
natural key that makes a row a duplicate. Sources come from a mapping file (etl/mapping.py);
the seed's own exports are described by `etl/mappings/seed.toml`.

`ENTITY_COLUMNS` is the contract between a mapping and the staging models
(`sql/staging/stg_<entity>.sql`): every canonical column a model reads. A mapping names the
export headers for some of them; the rest load empty, and the model judges what that means."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ENTITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "agents": ("agent_id", "full_name", "team"),
    "products": ("product_id", "name", "category", "list_price_try"),
    "product_issues": ("issue_id", "product_id", "title", "reported_at", "fix_shipped_at", "fix_description"),
    "customers": ("customer_id", "full_name", "email", "phone", "city", "birth_date", "signup_date",
                  "preferred_channel", "language", "consent_email", "consent_email_at", "consent_sms",
                  "consent_sms_at", "consent_phone", "consent_phone_at", "do_not_contact", "do_not_contact_at"),
    "interactions": ("interaction_id", "customer_id", "started_at", "channel", "direction", "topic", "agent_id",
                     "duration_seconds", "resolved_on_first_contact", "csat", "notes"),
    # line_item tells apart the lines of one order (a line-item id, or their number, see shopify.toml)
    "purchases": ("order_id", "customer_id", "ordered_at", "product_id", "category", "quantity", "net_amount_try",
                  "sales_channel", "status", "line_item"),
    "complaints": ("complaint_id", "customer_id", "opened_at", "channel", "category", "severity", "product_id",
                   "first_response_at", "resolved_at", "status", "resolution", "satisfaction_after",
                   "refund_amount_try", "description"),
    "survey_responses": ("survey_id", "customer_id", "responded_at", "touchpoint", "nps_score", "comment"),
    # Turkey's commercial-message register (İYS): per recipient address (a phone or an e-mail,
    # no customer number) and channel (phone = ARAMA, sms = MESAJ, email = EPOSTA), approved or
    # refused on a date. Optional: without an İYS export the table is empty and nothing changes.
    "iys_consents": ("recipient", "channel", "status", "decided_at"),
    # The agent desk (crm360/desk.py): what agents wrote at the end of calls, read by every run
    # from the desk store through etl/mappings/desk.toml (etl/desk_source.py) and then applied to
    # interactions, complaints and customers' consent.
    "desk_calls": ("call_id", "customer_id", "called_at", "channel", "reason", "outcome", "note", "agent"),
    "desk_complaints": ("complaint_id", "origin", "customer_id", "opened_at", "channel", "category", "severity",
                        "product_id", "first_response_at", "resolved_at", "resolution", "refund_try", "description",
                        "agent"),
    "desk_consent": ("change_id", "customer_id", "channel", "given", "do_not_contact", "recorded_at", "agent"),
}
# Columns the seed's CSV reader types (for speed): a column an export lacks loads as an empty value
# of this type. Text from any other file reaches the staging model as written, and the model casts
# it, so a value that is not a number is quarantined with its raw text, not lost to a cast.
STAGING_TYPES: dict[str, dict[str, str]] = {
    "customers": {"customer_id": "BIGINT"},
    "interactions": {"interaction_id": "BIGINT", "customer_id": "BIGINT", "started_at": "TIMESTAMP",
                     "duration_seconds": "INTEGER", "csat": "INTEGER"},
    "complaints": {"complaint_id": "BIGINT", "customer_id": "BIGINT"},
}
# Sources a run cannot do without when the mapping names them (a failed file with no earlier load
# to keep fails the run): customers, and the İYS register, whose refusals a list must never miss.
INDISPENSABLE = ("customers", "iys_consents")
# Loaded in this order: facts are checked against the reference tables loaded before them.
ENTITY_ORDER = tuple(ENTITY_COLUMNS)
FORMATS = ("csv", "parquet", "jsonl", "xlsx", "text")  # text: fields split by runs of spaces, no header
AUTO = "auto"


def is_date_column(column: str) -> bool:
    """Dates and moments are the columns named *_at or *_date."""
    return column.endswith(("_at", "_date"))


def is_money_column(column: str) -> bool:
    """Amounts are the columns in Turkish lira, named *_try."""
    return column.endswith("_try")


@dataclass(frozen=True)
class Source:
    entity: str                      # core table this source feeds
    file: str                        # file name in the raw directory
    format: str                      # csv | parquet | jsonl | xlsx | text
    columns: dict[str, str]          # export header -> canonical column
    key: tuple[str, ...]             # natural key: rows sharing it are duplicates
    delimiter: str = ","             # or "auto": detected from the header line
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
    # Raw values and what they mean, per canonical column: {"channel": {"telefon": "phone"}},
    # matched ignoring case and surrounding spaces; unmapped values pass through.
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    # How the file is written, each "auto" (detected per file, etl/detect.py) or pinned:
    encoding: str = AUTO             # utf-8 | cp1254
    dates: str = AUTO                # iso | dd.mm.yyyy | dd/mm/yyyy | mm/dd/yyyy, for every date column
    decimal: str = AUTO              # "," or "." in amounts
    # A header column the mapping does not name fails the file ("fail": the export changed
    # shape, a person should look), unless the mapping says the export has columns to ignore.
    extra_columns: str = "fail"
    # A column with no counterpart in the export, numbered by the row's line in the file (an
    # order log without order numbers: the line is the order).
    line_number_as: str | None = None
    # Values for columns the export lacks ({"status": "completed"} for a log of sales only).
    defaults: dict[str, str] = field(default_factory=dict)
    # Columns computed from export columns (etl/derived.py): canonical column -> how.
    derived: dict[str, Derivation] = field(default_factory=dict)
    # For a source whose rows name no customer number of ours (a helpdesk, a web shop): export
    # header -> identity field (external_id, email, phone, full_name, city). The identity step
    # (etl/identity.py) links each row to a customer by these, or makes a new customer.
    identity: dict[str, str] = field(default_factory=dict)
    # Where a mapping defines the source ("mapping.toml, source 2 (purchases)"), for messages.
    defined_in: str = ""

    @property
    def is_pattern(self) -> bool:
        """`file` is a pattern (`orders-*.csv`) that may match several files."""
        return any(char in self.file for char in "*?[")

    @property
    def helper_columns(self) -> dict[str, str]:
        """Export headers read only to derive columns or identify the customer, with the name
        each has in the raw relation (never a canonical column: they start with `_`)."""
        helpers = {header: f"{IDENTITY_PREFIX}{name}" for header, name in self.identity.items()}
        for column, how in self.derived.items():
            helpers.update({header: f"_derived_{column}_{i}" for i, header in enumerate(how.headers)
                            if header not in helpers})
        return {header: name for header, name in helpers.items() if header not in self.columns}

    @property
    def read_columns(self) -> dict[str, str]:
        """Every export header the reader takes, with its name in the raw relation: mapped ones
        by their canonical name, helpers by theirs."""
        return {**self.columns, **self.helper_columns}


def leads_outside(raw_dir: Path, path: Path) -> Path | None:
    """Where `path` really leads when that is outside `raw_dir` (through a symbolic link, or a
    link to a folder on the way), else None: a mapping reads the raw folder and nothing else."""
    target = path.resolve()
    return None if target.is_relative_to(raw_dir.resolve()) else target


IDENTITY_FIELDS = ("external_id", "email", "phone", "full_name", "city")
IDENTITY_PREFIX = "_identity_"


@dataclass(frozen=True)
class Derivation:
    """A column computed from export columns: `op` is one of DERIVATIONS, `headers` the export
    columns it reads, `base` a canonical column it starts from (minutes_after)."""

    op: str
    headers: tuple[str, ...]
    base: str | None = None


# What a derived column can be, each for an export shape we ship a mapping for:
#   minutes_after  a moment = a canonical moment + an export column of minutes (Zendesk's
#                  "First reply time in minutes" after "Created at")
#   product        the product of two export numbers (Shopify's line price x quantity)
#   digits_of      the digits of an export value ("#1001" -> 1001, Shopify's order name)
#   per_group      an export value given on one row of a group only, for every row of the group
#                  (Shopify writes an order's status on its first line item only)
#   occurrence     the row's number among the rows with the same values of some export columns
#                  (1, 2, ... in file order): Shopify has no line-item id, and two lines of one
#                  order with the same product are two purchases, the 1st and 2nd of that product
DERIVATIONS = ("minutes_after", "product", "digits_of", "per_group", "occurrence")
