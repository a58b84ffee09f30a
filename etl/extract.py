"""How each raw file is read: a relation (SQL `FROM` text) yielding every value as text.

Nothing is judged here; the staging models do that. Rows the CSV reader cannot split (a line cut
short, an unclosed quote) land in `rejects_<entity>` with their line number; a JSON line that
does not parse is kept with `_malformed = true`, so it becomes a quarantined row, not a lost one.
"""
from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import polars as pl

from crm360.cli import excerpt
from etl import derived, detect, record_key
from etl.sources import (
    AUTO,
    ENTITY_COLUMNS,
    IDENTITY_FIELDS,
    IDENTITY_PREFIX,
    STAGING_TYPES,
    Source,
    is_date_column,
    is_money_column,
)

MAX_LINE_BYTES = 32 * 1024 * 1024  # a 10 MB note still reads, so it can be judged and reported


class SourceError(RuntimeError):
    """A file that cannot be loaded at all: missing, empty, unreadable or without its columns."""


@dataclass
class Readable:
    """A raw file ready to read: the file itself, or a UTF-8 / Parquet copy of it; the source
    with everything "auto" resolved; and what was detected or converted, for the run report."""

    path: Path
    source: Source
    read_as: str
    notes: list[str] = field(default_factory=list)


@contextmanager
def readable(con: duckdb.DuckDBPyConnection, source: Source, path: Path) -> Iterator[Readable]:
    """Resolve how the file is written (encoding, delimiter, dates, decimals) and convert what
    DuckDB cannot read directly (Windows-1254 text, Excel) into a temporary copy."""
    if not path.exists():
        raise SourceError(f"{path.name}: file not found in {path.parent}")
    scratch = Path(tempfile.mkdtemp(prefix="etl-", dir=_temp_directory(con)))
    try:
        found = Readable(path, source, source.format)
        if source.format == "xlsx":
            found = _excel_as_parquet(found, scratch)
        elif source.format in ("csv", "jsonl", "text") and path.stat().st_size:
            found = _as_utf8(found, scratch)
            if source.format == "csv" and source.delimiter == AUTO:
                found.source = replace(found.source, delimiter=detect.delimiter_of(_first_line(found.path)))
                found.notes.append(f"delimiter {found.source.delimiter!r} detected")
        if found.source.delimiter == AUTO:  # not a CSV, or an empty one: the delimiter is never used
            found.source = replace(found.source, delimiter=",")
        yield found
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _temp_directory(con: duckdb.DuckDBPyConnection) -> str | None:
    setting = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    if setting:
        Path(setting).mkdir(parents=True, exist_ok=True)
    return setting or None


def _as_utf8(found: Readable, scratch: Path) -> Readable:
    encoding = detect.encoding_of(found.path) if found.source.encoding == AUTO else found.source.encoding
    if encoding == "utf-8":
        return found
    copy = scratch / found.path.name  # its own name: what the reader says about the copy names the file
    utf8_lines = detect.write_utf8_copy(found.path, copy)
    found.notes.append("read as Windows-1254 (Turkish Windows) and converted to UTF-8")
    if utf8_lines:
        shown = ", ".join(map(str, utf8_lines[:5])) + (", ..." if len(utf8_lines) > 5 else "")
        found.notes.append(f"{len(utf8_lines):,} line{'s' if len(utf8_lines) > 1 else ''} written in UTF-8 "
                           f"(line{'s' if len(utf8_lines) > 1 else ''} {shown}) read as UTF-8")
    return Readable(copy, replace(found.source, encoding="utf-8"), found.read_as, found.notes)


def _excel_as_parquet(found: Readable, scratch: Path) -> Readable:
    """The first sheet, every cell as text (as a CSV would give it), through a Parquet copy."""
    try:
        sheet = pl.read_excel(found.path, sheet_id=1, infer_schema_length=0)
    except Exception as error:  # fastexcel raises its own types for broken or non-Excel files
        raise SourceError(f"{found.path.name}: cannot be read as Excel: {str(error).splitlines()[0]}") from error
    copy = scratch / (found.path.stem + ".parquet")
    sheet.with_columns(pl.all().cast(pl.String)).write_parquet(copy)
    found.notes.append(f"Excel sheet 1: {sheet.height:,} rows")
    return Readable(copy, found.source, "parquet", found.notes)


def _first_line(path: Path) -> str:
    # Read ahead past the first line may meet a line in another encoding: that line is the
    # reader's to reject, not a reason to fail the file.
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        return handle.readline()


def raw_relation(con: duckdb.DuckDBPyConnection, found: Readable) -> str:
    """SQL for the file's rows with every canonical column of its table (those the mapping does
    not name are empty), the mapping's value translations applied, and dates and amounts in one
    writing (ISO, decimal point); checks the file can be read."""
    relation = _file_relation(con, found.source, found.path, found.read_as)
    source = found.source
    styles, decimal = _writing(con, found)
    mapped = set(source.columns.values())
    columns = []
    for column in ENTITY_COLUMNS[source.entity]:
        if column == source.line_number_as:
            columns.append(f"CAST(row_number() OVER () AS VARCHAR) AS {column}")
        elif column in source.derived:
            computed = derived.expression(source, column)
            columns.append(_translated(column, source.values[column], computed) if column in source.values
                           else f"{computed} AS {column}")
        elif column == "customer_id" and source.identity:
            columns.append(column)  # from the identity step's links, joined below
        elif column not in mapped:
            default = source.defaults.get(column)
            kind = STAGING_TYPES.get(source.entity, {}).get(column, "VARCHAR")  # as the model reads it
            columns.append(f"NULL::{kind} AS {column}" if default is None
                           else f"TRY_CAST({_literal(default)} AS {kind}) AS {column}")
        elif column in source.values:
            columns.append(_translated(column, source.values[column]))
        elif styles.get(column) in SLASHED_STYLES:
            columns.append(_iso_moment(column, styles[column]))
        elif is_money_column(column) and decimal == "," and column not in source.reader_types:
            columns.append(_point_decimal(column))
        else:
            columns.append(column)
    if not (source.identity or derived.needs_groups(source)):
        return f"(SELECT _malformed, {', '.join(columns)} FROM {relation})"
    # Windows and joins do not keep the file's order, which the row's line number relies on: the
    # position is numbered first and restored last (these sources are helpdesk and shop exports,
    # small beside the contact log).
    positioned = f"(SELECT row_number() OVER () AS _position, * FROM {relation})"
    if derived.needs_groups(source):
        positioned = f"(SELECT * REPLACE ({derived.group_values(source)}) FROM {positioned})"
    if not source.identity:
        return f"(SELECT _malformed, {', '.join(columns)} FROM {positioned} ORDER BY _position)"
    # The customer each row is, as the identity step linked its record (etl/identity.py); a row
    # it could not link keeps a note of why in place of the number, for the quarantine.
    return (f"(SELECT _malformed, {', '.join(columns)} FROM ("
            f"SELECT r.*, coalesce(CAST(l.customer_id AS VARCHAR), {record_key.unlinked_note('r')}) AS customer_id "
            f"FROM {record_key.with_record_key(positioned, tuple(source.identity.values()))} r "
            f"LEFT JOIN identity_links l ON l.source_file = {_literal(source.file)} "
            f"AND l.record_key = r._record_key) ORDER BY _position)")


def identity_relation(con: duckdb.DuckDBPyConnection, found: Readable, moment: str) -> str:
    """The file's identity columns (and the moment of each row's event), for the identity step."""
    source = found.source
    relation = _file_relation(con, source, found.path, found.read_as)
    fields = ", ".join(f"{IDENTITY_PREFIX}{name}" for name in IDENTITY_FIELDS)
    present = set(source.helper_columns.values())
    nulls = ", ".join(f"NULL::VARCHAR AS {IDENTITY_PREFIX}{name}" for name in IDENTITY_FIELDS
                      if f"{IDENTITY_PREFIX}{name}" not in present)
    event = f"parse_moment({moment})" if moment in source.columns.values() else "NULL::TIMESTAMP"
    return (f"(SELECT row_number() OVER () AS _position, {fields}, {event} AS _moment "
            f"FROM (SELECT *{', ' + nulls if nulls else ''} FROM {relation}) WHERE NOT _malformed)")


def _text_columns(source: Source, kind) -> list[str]:
    return [c for c in source.columns.values() if kind(c) and c not in source.reader_types]


def _writing(con: duckdb.DuckDBPyConnection, found: Readable) -> tuple[dict[str, str], str]:
    """The date writing of each text date column and the decimal mark of amounts: pinned by the
    mapping, or detected from every value of the file (one pass over a copy of the columns)."""
    source = found.source
    typed = _typed_in_file(con, found)
    dates = [c for c in _text_columns(source, is_date_column) if c not in typed]
    money = [c for c in _text_columns(source, is_money_column) if c not in typed]
    styles = {c: source.dates for c in dates} if source.dates != AUTO else {}
    decimal = source.decimal
    to_detect = [c for c in dates if c not in styles] + (money if decimal == AUTO else [])
    if not to_detect:
        return styles, "." if decimal == AUTO else decimal
    counts = con.execute(f"SELECT {_detection_sql(to_detect)} FROM {_plain(con, found)}").fetchone()
    figures = dict(zip([f"{c}__{k}" for c in to_detect for k in DETECTION_FIGURES], counts, strict=True))
    for column in dates:
        if column in styles:
            continue
        guess = detect.date_style_from_counts(**{k: figures[f"{column}__{k}"] or 0 for k in DETECTION_FIGURES})
        styles[column] = guess.style if guess else "iso"
        if guess and (guess.style != "iso" or guess.note):
            found.notes.append(f"{column}: dates written {guess.style}" + (f" ({guess.note})" if guess.note else ""))
    if decimal == AUTO:
        comma = sum(figures[f"{c}__comma"] or 0 for c in money)
        point = sum(figures[f"{c}__point"] or 0 for c in money)
        decimal = "," if comma > point else "."
        if decimal == ",":
            found.notes.append("amounts written with a decimal comma")
    return styles, decimal


def _typed_in_file(con: duckdb.DuckDBPyConnection, found: Readable) -> set[str]:
    """Columns a Parquet file already stores as dates, times or numbers: nothing to detect."""
    if found.read_as != "parquet" or found.source.format == "xlsx":
        return set()
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
                             f"read_parquet({_literal(found.path)}))").fetchall())
    return {column for header, column in found.source.columns.items() if types.get(header, "VARCHAR") != "VARCHAR"}


DETECTION_FIGURES = ("iso", "dotted", "slashed", "first_max", "second_max", "comma", "point")


def _detection_sql(columns: list[str]) -> str:
    parts = []
    for c in columns:
        text = f"trim(CAST({c} AS VARCHAR))"
        parts += [
            f"count(*) FILTER (WHERE regexp_matches({text}, '^\\d{{4}}-\\d{{1,2}}-\\d{{1,2}}'))",
            f"count(*) FILTER (WHERE regexp_matches({text}, '^\\d{{1,2}}\\.\\d{{1,2}}\\.\\d{{4}}'))",
            f"count(*) FILTER (WHERE regexp_matches({text}, '^\\d{{1,2}}/\\d{{1,2}}/\\d{{4}}'))",
            f"max(TRY_CAST(regexp_extract({text}, '^(\\d{{1,2}})/\\d{{1,2}}/\\d{{4}}', 1) AS INTEGER))",
            f"max(TRY_CAST(regexp_extract({text}, '^\\d{{1,2}}/(\\d{{1,2}})/\\d{{4}}', 1) AS INTEGER))",
            f"count(*) FILTER (WHERE regexp_matches({text}, '^-?[\\d.]*\\d,\\d+$'))",
            f"count(*) FILTER (WHERE regexp_matches({text}, '^-?[\\d,]*\\d\\.\\d+$'))",
        ]
    return ", ".join(parts)


def _plain(con: duckdb.DuckDBPyConnection, found: Readable) -> str:
    """The file's mapped columns as text, for detection only: a forgiving read that stores no
    rejects (the load's own read does that, once)."""
    source = found.source
    if found.read_as == "csv":
        header = _csv_header(source, found.path)
        names = {h: c for h, c in source.columns.items() if h in header}
        delimiter = source.delimiter.replace("'", "''")
        return (f"(SELECT {', '.join(_quoted(h) + ' AS ' + c for h, c in names.items())} "
                f"FROM read_csv({_literal(found.path)}, header = true, all_varchar = true, delim = '{delimiter}', "
                f"quote = '\"', escape = '\"', ignore_errors = true, strict_mode = false, "
                f"max_line_size = {MAX_LINE_BYTES}))")
    if found.read_as == "parquet":
        return f"(SELECT * FROM {_file_relation(con, source, found.path, 'parquet')})"
    if found.read_as == "text":
        fields = ", ".join(f"_fields[{int(p)}] AS {c}" for p, c in source.columns.items())
        return f"(SELECT {fields} FROM {_split_lines(found.path, 'ignore_errors = true')})"
    paths = ", ".join(f"'$.{header}'" for header in source.columns)
    fields = ", ".join(f"v[{i}] AS {c}" for i, c in enumerate(source.columns.values(), start=1))
    return (f"(SELECT {fields} FROM (SELECT json_extract_string(line, [{paths}]) AS v "
            f"FROM {_lines(found.path, 'ignore_errors = true')} WHERE json_valid(line)))")


def _quoted(header: str) -> str:
    return '"' + header.replace('"', '""') + '"'


# ISO and dd.mm.yyyy are read by every staging model (the parse_moment and parse_day macros);
# slashed dates mean different days in different files, and bare yyyymmdd digits could be
# anything, so those are rewritten here, per file, as the mapping or the detection says.
SLASHED_STYLES = ("dd/mm/yyyy", "mm/dd/yyyy", "yyyymmdd")


def _iso_moment(column: str, style: str) -> str:
    """A slashed date in the file's writing as ISO text; a value that does not parse is kept as
    written, so the staging model reports it with what was there."""
    formats = ", ".join(f"'{fmt}'" for fmt in detect.DATE_STYLES[style])
    return (f"coalesce(CAST(try_strptime(trim(CAST({column} AS VARCHAR)), [{formats}]) AS VARCHAR), "
            f"CAST({column} AS VARCHAR)) AS {column}")


def _point_decimal(column: str) -> str:
    """An amount written 1.234,56 as 1234.56."""
    return f"replace(replace(trim(CAST({column} AS VARCHAR)), '.', ''), ',', '.') AS {column}"


def _translated(column: str, meanings: dict[str, str], value: str | None = None) -> str:
    """A raw value (the column, or an expression for it) replaced by what it means, ignoring case,
    Turkish letters ("Geç" = "gec") and spaces around and within; values the mapping does not
    list pass through, as text, for the staging model to judge (and quarantine as written)."""
    value = value or column
    cases = " ".join(f"WHEN {_literal(raw)} THEN {_literal(meaning)}"
                     for raw, meaning in meanings.items())
    return f"CASE fold_text(CAST({value} AS VARCHAR)) {cases} ELSE CAST({value} AS VARCHAR) END AS {column}"


def _file_relation(con: duckdb.DuckDBPyConnection, source: Source, path: Path, read_as: str) -> str:
    _reset_rejects(con, source)
    if path.stat().st_size == 0:
        if read_as != "jsonl":
            # JSON Lines has no header, so an empty file is a valid export of nothing; a CSV or
            # Parquet file without even a header is a broken export.
            raise SourceError(f"{path.name}: file is empty (not even a header)")
        columns = ", ".join(f"NULL::VARCHAR AS {column}" for column in source.read_columns.values())
        return f"(SELECT false AS _malformed, {columns} WHERE false)"
    builders = {"csv": _csv_relation, "parquet": _parquet_relation, "jsonl": _jsonl_relation,
                "text": _text_relation}
    try:
        return builders[read_as](con, source, path)
    except duckdb.Error as error:
        first_line = str(error).strip().splitlines()[0]
        raise SourceError(f"{path.name}: cannot be read as {source.format}: {first_line}") from error


def _literal(value: Path | str) -> str:
    """A path or text as a SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def _reset_rejects(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE rejects_{source.entity} (line UBIGINT, line_byte_position UBIGINT, "
                "column_name VARCHAR, error_type VARCHAR, csv_line VARCHAR, error_message VARCHAR)")


def _reader_rejects(con: duckdb.DuckDBPyConnection, source: Source) -> str:
    """read_csv options that store unreadable lines in `rejects_<entity>`; the reader creates
    that table itself, so the empty placeholder made by `_reset_rejects` goes first."""
    con.execute(f"DROP TABLE IF EXISTS rejects_{source.entity}")
    return (f"store_rejects = true, rejects_table = 'rejects_{source.entity}', "
            f"rejects_scan = '_reject_scans_{source.entity}'")


def _check_columns(source: Source, found: list[str], path: Path) -> None:
    missing = [
        header for header, column in source.read_columns.items()
        if header not in found and column not in source.optional_columns
        and not column.startswith(IDENTITY_PREFIX)  # a record needs only one way to identify it
    ]
    if missing:
        raise SourceError(
            # what was found, shortened: the first line of a binary file can run to thousands of bytes
            f"{path.name}: missing column(s) {', '.join(missing)}; found {excerpt(', '.join(found), 240)}")
    unknown = [header for header in found if header not in source.read_columns]
    if unknown and source.extra_columns == "fail":
        raise SourceError(f"{path.name}: unknown column(s) {excerpt(', '.join(unknown), 240)}: the mapping does not "
                          "name them (add them, or set extra_columns = \"ignore\")")


def _select_list(source: Source, found: list[str]) -> str:
    return ", ".join(
        f'"{header.replace(chr(34), chr(34) * 2)}" AS {column}' if header in found else f"NULL::VARCHAR AS {column}"
        for header, column in source.read_columns.items())


def _csv_header(source: Source, path: Path) -> list[str]:
    """The header row, read by Python's csv module: a dialect sniffer can be thrown off by a
    few broken lines in a small file, and the header is all we need to know up front."""
    # Undecodable bytes are kept as surrogates while reading (the lines read ahead belong to the
    # reader, which rejects such a line on its own); only the header itself must be UTF-8.
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        try:
            first = next(csv.reader(handle, delimiter=source.delimiter), [])
        except csv.Error as error:
            raise SourceError(f"{path.name}: the header is not readable CSV ({error})") from error
    for name in first:
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise SourceError(f"{path.name}: the header is not UTF-8 text (column “{excerpt(name)}”)") from None
    return [name.strip() for name in first]


def _csv_relation(con: duckdb.DuckDBPyConnection, source: Source, path: Path) -> str:
    found = _csv_header(source, path)
    _check_columns(source, found, path)
    return (f"(SELECT false AS _malformed, {_select_list(source, found)} "
            f"FROM {_csv_read(source, path, found, _reader_rejects(con, source))})")


def _csv_read(source: Source, path: Path, header: list[str], errors: str) -> str:
    """The reader call for a CSV file: its own header, typed as the mapping says; `errors` says
    what becomes of a line it cannot read (stored rejects, or skipped)."""
    delimiter = source.delimiter.replace("'", "''")
    types = {name: source.reader_types.get(column, "VARCHAR") for name, column in source.read_columns.items()}
    columns = "{" + ", ".join(f"'{_quote_name(name)}': '{types.get(name, 'VARCHAR')}'" for name in header) + "}"
    return (f"read_csv({_literal(path)}, header = true, auto_detect = false, columns = {columns}, "
            f"delim = '{delimiter}', quote = '\"', escape = '\"', encoding = 'utf-8', strict_mode = true, "
            f"max_line_size = {MAX_LINE_BYTES}, buffer_size = {4 * MAX_LINE_BYTES}, {errors})")


def line_breaks_relation(found: Readable) -> str | None:
    """For a CSV file: each row's position among the rows the reader keeps (from 0, as staged)
    and the line breaks inside its quoted values, for rows that have some; None for other
    formats, whose records are one line each (JSON escapes its line breaks) or sheet rows."""
    if found.read_as != "csv":
        return None
    source = found.source
    header = _csv_header(source, found.path)
    texts = [name for name in header if source.reader_types.get(source.read_columns.get(name, ""), "VARCHAR")
             == "VARCHAR"]
    breaks = " + ".join(f"coalesce(length({_quoted(name)}) - length(replace({_quoted(name)}, chr(10), '')), 0)"
                        for name in texts) or "0"
    return (f"(SELECT _seq, _breaks FROM (SELECT row_number() OVER () - 1 AS _seq, {breaks} AS _breaks "
            f"FROM {_csv_read(source, found.path, header, 'ignore_errors = true')}) WHERE _breaks > 0)")


def physical_lines(path: Path) -> int:
    """Lines in a file as a text editor counts them (a last line without a line break counts)."""
    lines, last = 0, b""
    with open(path, "rb") as handle:
        while chunk := handle.read(detect.CHUNK_BYTES):
            lines, last = lines + chunk.count(b"\n"), chunk[-1:]
    return lines + (1 if last not in (b"", b"\n") else 0)


def _quote_name(name: str) -> str:
    return name.replace("'", "''")


def _parquet_relation(con: duckdb.DuckDBPyConnection, source: Source, path: Path) -> str:
    found = [row[0] for row in con.execute(
        f"DESCRIBE SELECT * FROM read_parquet({_literal(path)})").fetchall()]
    _check_columns(source, found, path)
    return f"(SELECT false AS _malformed, {_select_list(source, found)} FROM read_parquet({_literal(path)}))"


def _lines(path: Path, errors: str) -> str:
    """Every line of a file as one text column `line`, unsplit (JSON Lines, space-separated
    logs); `errors` says what becomes of an unreadable line (stored rejects, or skipped)."""
    return (f"read_csv({_literal(path)}, columns = {{'line': 'VARCHAR'}}, header = false, delim = chr(0), "
            f"quote = '', escape = '', max_line_size = {MAX_LINE_BYTES}, buffer_size = {4 * MAX_LINE_BYTES}, "
            f"{errors})")


def _split_lines(path: Path, errors: str) -> str:
    """Every line split once at runs of spaces, as the list `_fields`."""
    return f"(SELECT string_split_regex(trim(line), '\\s+') AS _fields FROM {_lines(path, errors)})"


def _jsonl_relation(con: duckdb.DuckDBPyConnection, source: Source, path: Path) -> str:
    # Read line by line as text, so a broken line is a rejected row with its line number
    # instead of a failed file or a silently skipped record.
    # One parse per line: every field extracted in a single call.
    paths = ", ".join(f"'$.{header}'" for header in source.read_columns)
    fields = ", ".join(f"_values[{index}] AS {column}"
                       for index, column in enumerate(source.read_columns.values(), start=1))
    return (
        f"(SELECT _malformed, {fields} FROM ("
        f" SELECT _malformed, CASE WHEN NOT _malformed THEN json_extract_string(line, [{paths}]) END AS _values"
        f" FROM ("
        f"  SELECT line, line IS NULL OR NOT json_valid(line) AS _malformed"
        f"  FROM {_lines(path, _reader_rejects(con, source))})))"
    )


def _text_relation(con: duckdb.DuckDBPyConnection, source: Source, path: Path) -> str:
    """A headerless text file whose fields are separated by runs of spaces (an old order log):
    each line split, fields taken by position; a line with too few fields is a malformed row."""
    needed = max(int(position) for position in source.read_columns)
    fields = ", ".join(f"_fields[{int(position)}] AS {column}"
                       for position, column in source.read_columns.items())
    return (f"(SELECT len(_fields) < {needed} AS _malformed, {fields} "
            f"FROM {_split_lines(path, _reader_rejects(con, source))})")


def header_lines(source: Source) -> int:
    """Lines before the first data row: the CSV header or the sheet's header row, or none."""
    return 1 if source.format in ("csv", "xlsx") else 0
