"""How each raw file is read: a relation (SQL `FROM` text) yielding every value as text.

Nothing is judged here; the staging models do that. Rows the CSV reader cannot split (a line cut
short, an unclosed quote) land in `rejects_<entity>` with their line number; a JSON line that
does not parse is kept with `_malformed = true`, so it becomes a quarantined row, not a lost one.
"""
from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from etl.sources import ENTITY_COLUMNS, Source

MAX_LINE_BYTES = 32 * 1024 * 1024  # a 10 MB note still reads, so it can be judged and reported


class SourceError(RuntimeError):
    """A file that cannot be loaded at all: missing, empty, unreadable or without its columns."""


def raw_relation(con: duckdb.DuckDBPyConnection, source: Source, path: Path) -> str:
    """SQL for the file's rows with every canonical column of its table (those the mapping does
    not name are empty) and the mapping's value translations applied; checks the file can be read."""
    return _canonical(source, _file_relation(con, source, path))


def _canonical(source: Source, relation: str) -> str:
    mapped = set(source.columns.values())
    columns = []
    for column in ENTITY_COLUMNS[source.entity]:
        if column not in mapped:
            columns.append(f"NULL::VARCHAR AS {column}")
        elif column in source.values:
            columns.append(_translated(column, source.values[column]))
        else:
            columns.append(column)
    return f"(SELECT _malformed, {', '.join(columns)} FROM {relation})"


def _translated(column: str, meanings: dict[str, str]) -> str:
    """A raw value replaced by what it means (ignoring case and surrounding spaces); values the
    mapping does not list pass through for the staging model to judge."""
    def text(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"
    cases = " ".join(f"WHEN {text(raw)} THEN {text(meaning)}" for raw, meaning in meanings.items())
    return f"CASE lower(trim(CAST({column} AS VARCHAR))) {cases} ELSE CAST({column} AS VARCHAR) END AS {column}"


def _file_relation(con: duckdb.DuckDBPyConnection, source: Source, path: Path) -> str:
    if not path.exists():
        raise SourceError(f"{path.name}: file not found in {path.parent}")
    _reset_rejects(con, source)
    if path.stat().st_size == 0:
        if source.format != "jsonl":
            # JSON Lines has no header, so an empty file is a valid export of nothing; a CSV or
            # Parquet file without even a header is a broken export.
            raise SourceError(f"{path.name}: file is empty (not even a header)")
        columns = ", ".join(f"NULL::VARCHAR AS {column}" for column in source.columns.values())
        return f"(SELECT false AS _malformed, {columns} WHERE false)"
    builders = {"csv": _csv_relation, "parquet": _parquet_relation, "jsonl": _jsonl_relation}
    try:
        return builders[source.format](con, source, path)
    except duckdb.Error as error:
        first_line = str(error).strip().splitlines()[0]
        raise SourceError(f"{path.name}: cannot be read as {source.format}: {first_line}") from error


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _reset_rejects(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE rejects_{source.entity} (line UBIGINT, "
                "column_name VARCHAR, error_type VARCHAR, csv_line VARCHAR, error_message VARCHAR)")


def _reader_rejects(con: duckdb.DuckDBPyConnection, source: Source) -> str:
    """read_csv options that store unreadable lines in `rejects_<entity>`; the reader creates
    that table itself, so the empty placeholder made by `_reset_rejects` goes first."""
    con.execute(f"DROP TABLE IF EXISTS rejects_{source.entity}")
    return (f"store_rejects = true, rejects_table = 'rejects_{source.entity}', "
            f"rejects_scan = '_reject_scans_{source.entity}'")


def _check_columns(source: Source, found: list[str], path: Path) -> None:
    missing = [
        header for header, column in source.columns.items()
        if header not in found and column not in source.optional_columns
    ]
    if missing:
        raise SourceError(
            f"{path.name}: missing column(s) {', '.join(missing)}; found {', '.join(found)}")


def _select_list(source: Source, found: list[str]) -> str:
    return ", ".join(
        f'"{header.replace(chr(34), chr(34) * 2)}" AS {column}' if header in found else f"NULL::VARCHAR AS {column}"
        for header, column in source.columns.items())


def _csv_header(source: Source, path: Path) -> list[str]:
    """The header row, read by Python's csv module: a dialect sniffer can be thrown off by a
    few broken lines in a small file, and the header is all we need to know up front."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        try:
            first = next(csv.reader(handle, delimiter=source.delimiter), [])
        except (UnicodeDecodeError, csv.Error) as error:
            raise SourceError(f"{path.name}: the header is not readable UTF-8 CSV ({error})") from error
    return [name.strip() for name in first]


def _csv_relation(con: duckdb.DuckDBPyConnection, source: Source, path: Path) -> str:
    found = _csv_header(source, path)
    _check_columns(source, found, path)
    delimiter = source.delimiter.replace("'", "''")
    types = {header: source.reader_types.get(column, "VARCHAR") for header, column in source.columns.items()}
    columns = "{" + ", ".join(f"'{_quote_name(name)}': '{types.get(name, 'VARCHAR')}'" for name in found) + "}"
    options = (
        f"header = true, auto_detect = false, columns = {columns}, delim = '{delimiter}', "
        f"quote = '\"', escape = '\"', encoding = 'utf-8', strict_mode = true, "
        f"max_line_size = {MAX_LINE_BYTES}, buffer_size = {4 * MAX_LINE_BYTES}"
    )
    return (f"(SELECT false AS _malformed, {_select_list(source, found)} "
            f"FROM read_csv({_literal(path)}, {options}, {_reader_rejects(con, source)}))")


def _quote_name(name: str) -> str:
    return name.replace("'", "''")


def _parquet_relation(con: duckdb.DuckDBPyConnection, source: Source, path: Path) -> str:
    found = [row[0] for row in con.execute(
        f"DESCRIBE SELECT * FROM read_parquet({_literal(path)})").fetchall()]
    _check_columns(source, found, path)
    return f"(SELECT false AS _malformed, {_select_list(source, found)} FROM read_parquet({_literal(path)}))"


def _jsonl_relation(con: duckdb.DuckDBPyConnection, source: Source, path: Path) -> str:
    # Read line by line as text, so a broken line is a rejected row with its line number
    # instead of a failed file or a silently skipped record.
    # One parse per line: every field extracted in a single call.
    paths = ", ".join(f"'$.{header}'" for header in source.columns)
    fields = ", ".join(f"_values[{index}] AS {column}"
                       for index, column in enumerate(source.columns.values(), start=1))
    return (
        f"(SELECT _malformed, {fields} FROM ("
        f" SELECT _malformed, CASE WHEN NOT _malformed THEN json_extract_string(line, [{paths}]) END AS _values"
        f" FROM ("
        f"  SELECT line, line IS NULL OR NOT json_valid(line) AS _malformed"
        f"  FROM read_csv({_literal(path)}, columns = {{'line': 'VARCHAR'}}, header = false,"
        f"       delim = chr(0), quote = '', escape = '', max_line_size = {MAX_LINE_BYTES},"
        f"       buffer_size = {4 * MAX_LINE_BYTES}, {_reader_rejects(con, source)}))))"
    )


def header_lines(source: Source) -> int:
    """Lines before the first data row: the CSV header, or none."""
    return 1 if source.format == "csv" else 0
