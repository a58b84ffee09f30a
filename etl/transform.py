"""Raw tables -> validated staging -> quarantine and core tables, with every row counted.

For each source: run its staging model (`sql/staging/stg_<entity>.sql`), move rows with a
rejecting problem to `quarantine` (with file, line, field and reason), collapse duplicates of
the natural key (the last row in the file wins: a later export line is the newer state), and
write the core table sorted by its clustering order so one customer's rows sit together.
"""
from __future__ import annotations

import contextlib
import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import duckdb
import polars as pl

from crm360 import config, masking, outreach_rules, segments, textnorm
from etl import identity
from etl.extract import (
    Readable,
    SourceError,
    header_lines,
    line_breaks_relation,
    physical_lines,
    raw_relation,
    readable,
)
from etl.sources import ENTITY_COLUMNS, STAGING_TYPES, Source

SQL_DIR = Path(__file__).parent / "sql"


@dataclass
class FileCounts:
    rows_read: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    values_cleared: int = 0
    notes: tuple[str, ...] = ()  # what was detected or converted to read the file
    rows_merged: int = 0         # records found to be a customer already loaded (etl/identity.py)

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_merged + self.rows_duplicate + self.rows_rejected


def _sql_list(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{value}'" for value in values) + ")"


TEMPLATE_VALUES = {
    "channels": _sql_list(config.CHANNELS),
    "channel_list": "[" + _sql_list(config.CHANNELS)[1:-1] + "]",
    "sales_channels": _sql_list(config.SALES_CHANNELS),
    "purchase_statuses": _sql_list(config.PURCHASE_STATUSES),
    "complaint_categories": _sql_list(config.COMPLAINT_CATEGORIES),
    "complaint_statuses": _sql_list(config.COMPLAINT_STATUSES),
    "severities": _sql_list(config.COMPLAINT_SEVERITIES),
    "max_text": str(config.MAX_TEXT_LENGTH),
    "raw_chars": str(config.QUARANTINE_RAW_CHARS),
    "fold_text": textnorm.fold_text_sql("x"),
    "normalize_phone": textnorm.normalize_phone_sql("x"),
    "email_pattern": textnorm.EMAIL_PATTERN_SQL,
    "response_promise_hours": str(config.RESPONSE_PROMISE_HOURS),
    "active_window_days": str(config.ACTIVE_WINDOW_DAYS),
    "rfm_segment_map": segments.segment_map_sql(),
    "prospects_segment": f"'{segments.PROSPECTS}'",
    "no_tier": f"'{config.NO_TIER}'",
    "loyalty_tier_of_trailing_spend": segments.loyalty_tier_sql("coalesce(t.trailing_12m_revenue_try, 0)"),
    "churn_band_of_risk": segments.churn_band_sql("1 - v.p_alive"),
    "outreach_rules": outreach_rules.rules_sql(),
    "stalled_complaint_days": str(config.STALLED_COMPLAINT_DAYS),
    "follow_up_window_days": str(config.FOLLOW_UP_WINDOW_DAYS),
    "detractor_window_days": str(config.DETRACTOR_WINDOW_DAYS),
    "high_value_top_share": str(config.HIGH_VALUE_TOP_SHARE),
    "at_risk_p_alive": str(config.AT_RISK_P_ALIVE),
    "quiet_gap_factor": str(config.QUIET_GAP_FACTOR),
    "celebration_window_days": str(config.CELEBRATION_WINDOW_DAYS),
    "tier_upgrade_reach": str(config.TIER_UPGRADE_REACH),
    "next_tier_of_spend": outreach_rules.next_tier_sql("trailing_12m_revenue_try"),
    "severity_stake": outreach_rules.severity_stake_sql("severity"),
    "churn_bands": "[" + ", ".join(f"'{band}'" for band in segments.CHURN_BAND_ORDER) + "]",
    "consented_email": masking.consented_email_sql("s.email", "m.consent_email"),
    "consented_phone": masking.consented_phone_sql("s.phone", "m.consent_phone", "m.consent_sms"),
    "masked_email": masking.unconsented_email_masked_sql("s.email", "m.consent_email"),
    "masked_phone": masking.unconsented_phone_masked_sql("s.phone", "m.consent_phone", "m.consent_sms"),
}


def render_sql(relative: str, **values: str) -> str:
    """A model's SQL with the configured values filled in (`{name}` placeholders)."""
    text = (SQL_DIR / relative).read_text(encoding="utf-8")
    for name, value in {**TEMPLATE_VALUES, **values}.items():
        text = text.replace("{" + name + "}", value)
    return _problem_list_only_where_needed(text) if relative.startswith("staging/") else text


_PROBLEMS_START, _PROBLEMS_END = "list_filter([", "], lambda p: p IS NOT NULL) AS _problems"


def _problem_list_only_where_needed(model: str) -> str:
    """A staging model lists each row's problems as `list_filter([problem(...), ...], ...)`.
    Building and filtering that list for every row is most of a model's cost (29 M contacts:
    28 s against 21 s), yet nearly every row has no problem. The same checks, first as one
    `coalesce` that is NULL when none fails, build the list only for rows with a problem; the
    models keep one list of checks each, written once."""
    start, end = model.find(_PROBLEMS_START), model.find(_PROBLEMS_END)
    if start < 0 or end < start:
        return model
    checks = model[start + len(_PROBLEMS_START):end]
    lazy = f"CASE WHEN coalesce({checks}) IS NULL THEN [] ELSE list_filter([{checks}], lambda p: p IS NOT NULL) END"
    return model[:start] + lazy + " AS _problems" + model[end + len(_PROBLEMS_END):]


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(render_sql("macros.sql"))


QUARANTINE_DDL = """
CREATE TABLE IF NOT EXISTS quarantine (
    run_id VARCHAR, source_file VARCHAR, entity VARCHAR, line_number BIGINT,
    field VARCHAR, reason VARCHAR, raw_value VARCHAR, action VARCHAR
)
"""


# Why a staged file must not load (too many rejected rows), or None: the caller's rule.
FileRule = Callable[[Path, FileCounts], str | None]


@dataclass
class FileOutcome:
    counts: FileCounts
    failure: str | None = None  # why the file did not load; its rows are in no table


def stage_and_load_files(con: duckdb.DuckDBPyConnection, source: Source, paths: list[Path], run_id: str,
                         rule: FileRule = lambda path, counts: None,
                         lines_in: Callable[[Path], int] = physical_lines) -> list[FileOutcome]:
    """Stage the files of one source (one file, or those its pattern matches, in name order),
    quarantine their bad rows, write one core table of the files that load; returns each
    file's counts, or why it did not load.

    Each file is staged and checked on its own, so its rows keep their own line numbers. A file
    that cannot be read, or that `rule` refuses, fails alone: none of its rows load and its
    counts say so (0 loaded). The other files' staged rows are appended in file order, and a
    row whose key comes again in a later file is a duplicate (the later export is the newer
    state). When no file loads, the core table is not written: the caller decides what stands.
    `lines_in` gives a file's line count (the pipeline has it from the checksum's read).
    """
    con.execute(QUARANTINE_DDL)
    entity = source.entity
    outcomes, loading, ranges = [], [], []
    for path in paths:
        try:
            with readable(con, replace(source, file=path.name), path) as found:
                counts = _stage_file(con, found, run_id, functools.partial(lines_in, path))
        except SourceError as error:
            outcomes.append(FileOutcome(FileCounts(), str(error)))
            continue
        failure = rule(path, counts)
        outcomes.append(FileOutcome(counts, failure))
        if failure:
            con.execute(f"DROP TABLE stg_{entity}")
            continue
        start = con.execute(f"SELECT count(*) FROM _all_{entity}").fetchone()[0] if loading else 0
        if loading:
            con.execute(f"INSERT INTO _all_{entity} SELECT * FROM stg_{entity}")
            con.execute(f"DROP TABLE stg_{entity}")
        else:
            con.execute(f"ALTER TABLE stg_{entity} RENAME TO _all_{entity}")
        ranges.append((start, con.execute(f"SELECT count(*) FROM _all_{entity}").fetchone()[0]))
        loading.append(counts)
    if not loading:
        return outcomes
    con.execute(f"ALTER TABLE _all_{entity} RENAME TO stg_{entity}")
    _duplicates(con, source)
    for counts, (start, end), kept in zip(loading, ranges, _rows_kept(con, entity, ranges), strict=True):
        counts.rows_duplicate = con.execute(f"SELECT count(*) FROM _duplicates_{entity} WHERE _seq >= ? AND _seq < ?",
                                            [start, end]).fetchone()[0]
        counts.rows_loaded = kept
    _core_table(con, source)
    for table in (f"stg_{entity}", f"_duplicates_{entity}"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return outcomes


def _rows_kept(con: duckdb.DuckDBPyConnection, entity: str, ranges: list[tuple[int, int]]) -> list[int]:
    """Rows of each file's range that reach the core table (neither rejected nor an earlier copy)."""
    if len(ranges) == 1:
        return [con.execute(f"SELECT count(*) FROM stg_{entity} WHERE NOT {REJECTED}").fetchone()[0]
                - con.execute(f"SELECT count(*) FROM _duplicates_{entity}").fetchone()[0]]
    return [con.execute(f"""SELECT count(*) FROM stg_{entity} WHERE NOT {REJECTED} AND rowid >= ? AND rowid < ?
                            AND rowid NOT IN (SELECT _seq FROM _duplicates_{entity})""", [start, end]).fetchone()[0]
            for start, end in ranges]


def empty_table(con: duckdb.DuckDBPyConnection, entity: str) -> None:
    """The entity's core table with its columns and no rows (a first load whose file failed, or
    an entity the exports do not have)."""
    types = STAGING_TYPES.get(entity, {})
    columns = ", ".join(f"NULL::{types.get(c, 'VARCHAR')} AS {c}" for c in ENTITY_COLUMNS[entity])
    model = render_sql(f"staging/stg_{entity}.sql", raw=f"(SELECT false AS _malformed, {columns} WHERE false)")
    con.execute(f"CREATE OR REPLACE TABLE {entity} AS SELECT * EXCLUDE (_problems) FROM ({model})")


def customers_from_facts(con: duckdb.DuckDBPyConnection, found: Readable) -> int:
    """Customers for exports without a customer file: one per customer number in the facts,
    named by number, signed up on their first event, no contact details and no consent (so no
    marketing list will ever include them). Returns how many."""
    source = found.source
    moment = {"purchases": "ordered_at", "interactions": "started_at", "complaints": "opened_at",
              "survey_responses": "responded_at"}[source.entity]
    empty_table(con, "customers")
    con.execute(f"""
        INSERT INTO customers BY NAME
        SELECT customer_id, 'Customer ' || customer_id AS full_name, fold_text('Customer ' || customer_id) AS name_key,
               min(parse_moment({moment}))::DATE AS signup_date, false AS consent_email, false AS consent_sms,
               false AS consent_phone, false AS do_not_contact
        FROM (SELECT TRY_CAST(customer_id AS BIGINT) AS customer_id, {moment} FROM {raw_relation(con, found)})
        WHERE customer_id IS NOT NULL
        GROUP BY customer_id ORDER BY customer_id""")
    return con.execute("SELECT count(*) FROM customers").fetchone()[0]


def _stage_file(con: duckdb.DuckDBPyConnection, found: Readable, run_id: str, lines: Callable[[], int]) -> FileCounts:
    """`stg_<entity>`: the file's rows typed and checked, its problems quarantined with their
    lines; returns its counts so far (read, rejected, cleared). `lines`: the file's line count."""
    source = found.source
    model = render_sql(f"staging/stg_{source.entity}.sql", raw=raw_relation(con, found))
    # In memory, in file order: the staged row's rowid is its position in the file, and the
    # only write to disk is the clustered core table.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE stg_{source.entity} AS
        SELECT *, len(_problems) > 0
                  AND list_contains(list_transform(_problems, lambda p: p.action), 'row_rejected') AS _rejected
        FROM ({model})""")
    _line_numbers(con, source)
    _quarantine(con, found, run_id)
    _physical_lines(con, found, run_id, lines)
    if source.entity != "customers" and "customer_id" in ENTITY_COLUMNS[source.entity]:
        identity.move_merged_facts(con, f"stg_{source.entity}")
    counts = _file_counts(con, source)
    counts.notes = tuple(found.notes)
    for table in (f"rejects_{source.entity}", f"_reject_scans_{source.entity}", f"_lines_{source.entity}",
                  f"_raw_bytes_{source.entity}"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return counts


def _line_numbers(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    """Line numbers for the staged rows that have problems (the only ones a person reads), as
    records in the file; `_physical_lines` turns them into lines where a record spans several."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _lines_{source.entity} AS {_record_numbers(
        source, f"SELECT rowid AS _seq FROM stg_{source.entity} WHERE len(_problems) > 0")}""")


def _record_numbers(source: Source, rows: str) -> str:
    """SQL for `rows` (positions `_seq` among the rows the reader kept, with any other columns)
    with the number of their record in the file, as `line_number` (the header is record 1).

    A raw row's position counts only the rows the reader could split; each unreadable record
    before it shifts it down by one, found by an as-of join on the rejects in file order."""
    header = header_lines(source)
    return f"""
        WITH rejected AS (
            SELECT DISTINCT line FROM rejects_{source.entity}
        ), shifts AS (
            SELECT line - {header} - 1 - (row_number() OVER (ORDER BY line) - 1) AS rows_before,
                   row_number() OVER (ORDER BY line) AS shift
            FROM rejected
        )
        SELECT p.*, p._seq + {header} + 1 + coalesce(s.shift, 0) AS line_number
        FROM ({rows}) p ASOF LEFT JOIN shifts s ON p._seq >= s.rows_before"""


def _physical_lines(con: duckdb.DuckDBPyConnection, found: Readable, run_id: str, lines: Callable[[], int]) -> None:
    """The file's quarantine rows numbered by the line a text editor shows, where quoted values
    hold line breaks: each record after such a value starts that many lines further down.

    Costs nothing for a file whose lines are as many as its records (its line count comes with
    its checksum); only a file whose lines outnumber its records, and that has quarantined
    rows, is read again to find the records that span lines."""
    source = found.source
    entity = source.entity
    breaks = line_breaks_relation(found)
    this_file = "run_id = $run AND source_file = $file AND entity = $entity"
    names = {"run": run_id, "file": source.file, "entity": entity}
    if breaks is None or not con.execute(f"SELECT count(*) FROM quarantine WHERE {this_file}", names).fetchone()[0]:
        return
    records = con.execute(f"""SELECT {header_lines(source)} + (SELECT count(*) FROM stg_{entity})
                                     + (SELECT count(DISTINCT line) FROM rejects_{entity})""").fetchone()[0]
    if lines() == records:
        return
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _breaks_{entity} AS
        SELECT line, sum(breaks) OVER (ORDER BY line) AS breaks_through FROM (
            SELECT line_number AS line, _breaks AS breaks FROM ({_record_numbers(source, breaks)})
            UNION ALL
            SELECT line, length(csv_line) - length(replace(csv_line, chr(10), '')) AS breaks
            FROM (SELECT DISTINCT ON (line) line, csv_line FROM rejects_{entity})
        ) WHERE breaks > 0""")
    con.execute(f"""
        UPDATE quarantine SET line_number = quarantine.line_number + moved.breaks FROM (
            SELECT q.line_number AS record, coalesce(b.breaks_through, 0) AS breaks
            FROM (SELECT DISTINCT line_number FROM quarantine WHERE {this_file}) q
            ASOF LEFT JOIN _breaks_{entity} b ON q.line_number > b.line) moved
        WHERE quarantine.line_number = moved.record AND {this_file}""", names)
    con.execute(f"DROP TABLE _breaks_{entity}")


def _quarantine(con: duckdb.DuckDBPyConnection, found: Readable, run_id: str) -> None:
    source = found.source
    entity = source.entity
    raw_chars = config.QUARANTINE_RAW_CHARS
    con.execute(f"""
        INSERT INTO quarantine
        SELECT ?, ?, ?, l.line_number, p.field, p.reason, p.value, p.action
        FROM (SELECT rowid AS _seq, unnest(_problems) AS p FROM stg_{entity}
              WHERE len(_problems) > 0) s
        JOIN _lines_{entity} l USING (_seq)
    """, [run_id, source.file, entity])
    _undecodable_lines(con, entity, found.path)
    con.execute(f"""
        INSERT INTO quarantine
        SELECT ?, ?, ?, line, coalesce({_canonical_column(source)}, 'record'),
               CASE WHEN error_type::VARCHAR = 'CAST' THEN 'not a valid value: ' || error_message
                    WHEN error_type::VARCHAR = '{NOT_UTF8}' THEN 'unreadable line: not UTF-8 text (written in '
                                                                 || 'another encoding); its bytes are shown escaped'
                    ELSE 'unreadable line: ' || error_type::VARCHAR || ' (' || error_message || ')' END,
               coalesce(b.raw, left(csv_line, {raw_chars})), 'row_rejected'
        FROM (SELECT DISTINCT ON (line) * FROM rejects_{entity}
              ORDER BY line, error_type::VARCHAR = '{NOT_UTF8}' DESC) r
        LEFT JOIN _raw_bytes_{entity} b USING (line)
    """, [run_id, source.file, entity])


NOT_UTF8 = "INVALID ENCODING"  # the reader's error type for a line that is not UTF-8
ESCAPED_LINES = 10_000


def _undecodable_lines(con: duckdb.DuckDBPyConnection, entity: str, path: Path) -> None:
    """`_raw_bytes_<entity>`: each line the reader rejected as not UTF-8, its bytes shown escaped
    (`Ay\\xfee`); the reader's own copy of the line has them replaced by '?'. Read from the file
    at the line's position, so the cost is in the rejected lines only, and at most the first
    ESCAPED_LINES of them (a whole file in the wrong encoding fails the rejection rule anyway;
    its other lines keep the reader's copy)."""
    rejected = con.execute(f"""SELECT line, min(line_byte_position), any_value(csv_line) FROM rejects_{entity}
                               WHERE error_type::VARCHAR = '{NOT_UTF8}' GROUP BY line ORDER BY 2
                               LIMIT {ESCAPED_LINES}""").fetchall()
    limit = config.QUARANTINE_RAW_CHARS
    shown = []
    with open(path, "rb") if rejected else contextlib.nullcontext() as handle:
        for _, position, text in rejected:
            # `limit` bytes never escape to fewer than `limit` characters
            record = _record_at(handle, position, (text or "").count("\n") + 1, limit)
            shown.append(record.rstrip(b"\r\n").decode("utf-8", "backslashreplace")[:limit])
    con.register("_escaped_lines", pl.DataFrame({"line": [row[0] for row in rejected], "raw": shown},
                                                schema={"line": pl.UInt64, "raw": pl.String}))
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _raw_bytes_{entity} AS SELECT * FROM _escaped_lines")
    finally:
        con.unregister("_escaped_lines")


def _record_at(handle: BinaryIO, position: int, lines: int, most: int) -> bytes:
    """The bytes of the record the reader places at `position`. DuckDB 2.0's line_byte_position
    is sometimes one byte off either way (seen: +1 after a short line, -1 after a quoted line
    break), so the line start is the newline-bounded start at or next to it whose line is not
    UTF-8: the record the reader rejected for it."""
    base = max(0, position - 2)
    handle.seek(base)
    window = handle.read(most + 4)
    starts = dict.fromkeys(window.rfind(b"\n", 0, position - base + shift) + 1 for shift in (1, 0, 2))
    candidates = [window[start:] for start in starts]
    record = next((c for c in candidates if not _decodes(c.split(b"\n", 1)[0])), candidates[0])
    return b"\n".join(record.split(b"\n", lines)[:lines])


def _decodes(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


REJECTED = "_rejected"


def _canonical_column(source: Source) -> str:
    """The reader names a column by its export header; the quarantine uses our name for it."""
    cases = " ".join(f"WHEN '{header.replace(chr(39), chr(39) * 2)}' THEN '{column}'"
                     for header, column in source.read_columns.items())
    return f"CASE column_name {cases} ELSE nullif(column_name, '') END"


def _duplicates(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    """`_duplicates_<entity>`: staged rows whose key comes again later (in the file, or in a
    later file); the last one wins."""
    entity = source.entity
    key = ", ".join(source.key)
    # Rows in key order: a row whose next row has the same key is an earlier copy. Ids usually
    # arrive in order, which makes this sort far cheaper than a hash of every key.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _duplicates_{entity} AS
        SELECT _seq FROM (
            SELECT rowid AS _seq, ({key}) AS _key,
                   lead(({key})) OVER (ORDER BY {key}, rowid) AS _next_key
            FROM stg_{entity} WHERE NOT {REJECTED}
        ) WHERE _key = _next_key
    """)


def _file_counts(con: duckdb.DuckDBPyConnection, source: Source) -> FileCounts:
    entity = source.entity
    staged, rejected, cleared = con.execute(f"""
        SELECT count(*),
               count(*) FILTER (WHERE {REJECTED}),
               coalesce(sum(len(list_filter(_problems, lambda p: p.action = 'value_cleared')))
                        FILTER (WHERE NOT {REJECTED}), 0)
        FROM stg_{entity}
    """).fetchone()
    unreadable = con.execute(
        f"SELECT count(DISTINCT line) FROM rejects_{entity}").fetchone()[0]
    return FileCounts(rows_read=staged + unreadable, rows_rejected=rejected + unreadable, values_cleared=int(cleared))


# Rows sorted in one go: beyond this a sort of wide rows spills to disk on a machine of our
# size, so larger tables are sorted in customer ranges and appended in order.
SORT_BATCH_ROWS = 10_000_000


def _core_table(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    entity = source.entity
    order = ", ".join(source.order_by)
    keep = f"NOT {REJECTED} AND rowid NOT IN (SELECT _seq FROM _duplicates_{entity})"
    select = f"SELECT * EXCLUDE (_problems, _rejected) FROM stg_{entity}"
    lead = source.order_by[0]
    rows = con.execute(f"SELECT count(*) FROM stg_{entity}").fetchone()[0]
    batches = max(1, -(-rows // SORT_BATCH_ROWS))
    if batches == 1:
        con.execute(f"CREATE OR REPLACE TABLE {entity} AS {select} WHERE {keep} ORDER BY {order}")
        return
    # Equal-count ranges of the leading sort key, so every batch is about the same size.
    shares = ", ".join(str(i / batches) for i in range(1, batches))
    bounds = sorted(set(con.execute(
        f"SELECT quantile_disc({lead}, [{shares}]) FROM stg_{entity} WHERE NOT {REJECTED}").fetchone()[0]))
    con.execute(f"CREATE OR REPLACE TABLE {entity} AS {select} WHERE false")
    edges = [None, *bounds, None]
    for low, high in itertools.pairwise(edges):
        condition = " AND ".join(
            part for part in (f"{lead} > {low}" if low is not None else "",
                              f"{lead} <= {high}" if high is not None else "") if part)
        con.execute(f"INSERT INTO {entity} {select} WHERE {keep} AND {condition} ORDER BY {order}")
