"""Mapping files: how a company's exports become our tables, written as TOML instead of code.

A mapping lists sources (`[[source]]`), each naming its file, the table it feeds, how to read it
and which export column is which canonical column (see `etl/mappings/seed.toml`, which describes
the seed's own exports, for every field). `python -m etl --raw DIR` uses `DIR/mapping.toml` when
there is one, `--mapping FILE` when given, and the seed mapping otherwise.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from crm360 import config
from etl.detect import DATE_STYLES, ENCODINGS
from etl.sources import AUTO, ENTITY_COLUMNS, ENTITY_ORDER, FORMATS, Source

SEED_MAPPING = Path(__file__).resolve().parent / "mappings" / "seed.toml"
MAPPING_IN_RAW_DIR = "mapping.toml"
READER_TYPES = {"BIGINT", "INTEGER", "DOUBLE", "TIMESTAMP", "DATE", "VARCHAR"}


class MappingError(ValueError):
    """A mapping that cannot be used, with where and why, for the person who wrote it."""


@dataclass(frozen=True)
class Mapping:
    sources: tuple[Source, ...]
    # When the exports have no customer file (a bare order log), customers are made from the
    # customer numbers of this entity's file, each signed up on their first event.
    customers_from: str | None = None
    # An event before this is taken for a typo (1926 for 2026) and rejected; a data set from the
    # 1990s says so.
    earliest_event: str = config.EARLIEST_EVENT_DATE


def read_mapping(path: Path) -> Mapping:
    """The whole mapping: its sources and the settings that concern more than one of them."""
    sources = load_mapping(path)
    document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    customers_from = document.get("customers_from")
    entities = {s.entity for s in sources}
    if customers_from is not None:
        if "customers" in entities:
            raise MappingError(f"{path}: customers come from a file, so `customers_from` must go")
        if customers_from not in entities or "customer_id" not in ENTITY_COLUMNS[customers_from]:
            raise MappingError(f"{path}: `customers_from` names {customers_from!r}, which is not a source "
                               "with customer numbers here")
    elif "customers" not in entities:
        raise MappingError(f"{path}: no customers source; add one, or set customers_from = \"purchases\" "
                           "(or another source with customer numbers)")
    earliest = str(document.get("earliest_event", config.EARLIEST_EVENT_DATE))
    try:
        date.fromisoformat(earliest)
    except ValueError as error:
        raise MappingError(f"{path}: `earliest_event` {earliest!r} is not a date (YYYY-MM-DD)") from error
    return Mapping(sources, customers_from, earliest)


def find_mapping(raw_dir: Path, explicit: Path | None = None) -> Path:
    """The mapping to use for a raw directory: the one given, the directory's own, or the seed's."""
    if explicit is not None:
        return explicit
    own = raw_dir / MAPPING_IN_RAW_DIR
    return own if own.is_file() else SEED_MAPPING


def load_mapping(path: Path) -> tuple[Source, ...]:
    """The sources a mapping file describes, in loading order (reference tables before facts)."""
    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise MappingError(f"{path}: mapping file not found") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise MappingError(f"{path}: not valid TOML ({error})") from error
    entries = document.get("source")
    if not isinstance(entries, list) or not entries:
        raise MappingError(f"{path}: no [[source]] entries")
    sources = [_source(entry, f"{Path(path).name}, source {number}") for number, entry in enumerate(entries, 1)]
    seen: dict[str, str] = {}
    for source in sources:
        if source.entity in seen:
            raise MappingError(f"{path}: {source.entity} is fed by both {seen[source.entity]} and {source.file}")
        seen[source.entity] = source.file
    return tuple(sorted(sources, key=lambda s: ENTITY_ORDER.index(s.entity)))


def _source(entry: dict, where: str) -> Source:
    def need(name: str, kind: type) -> object:
        if name not in entry:
            raise MappingError(f"{where}: `{name}` is missing")
        if not isinstance(entry[name], kind):
            raise MappingError(f"{where}: `{name}` must be a {kind.__name__}")
        return entry[name]

    entity = need("entity", str)
    if entity not in ENTITY_COLUMNS:
        raise MappingError(f"{where}: unknown entity {entity!r}; one of {', '.join(ENTITY_ORDER)}")
    where = f"{where} ({entity})"
    file_format = entry.get("format", "csv")
    if file_format not in FORMATS:
        raise MappingError(f"{where}: format {file_format!r} is not one of {', '.join(FORMATS)}")
    columns = need("columns", dict)
    canonical = set(ENTITY_COLUMNS[entity])
    unknown = sorted(set(columns.values()) - canonical)
    if unknown:
        raise MappingError(f"{where}: no column {', '.join(unknown)} in {entity}; its columns are "
                           f"{', '.join(ENTITY_COLUMNS[entity])}")
    mapped = list(columns.values())
    if len(mapped) != len(set(mapped)):
        raise MappingError(f"{where}: two export columns map to the same column")
    key = tuple(need("key", list))
    unknown_defaults = sorted(set(entry.get("defaults", {})) - canonical)
    if unknown_defaults:
        raise MappingError(f"{where}: `defaults` names {', '.join(unknown_defaults)}, not columns of {entity}")
    line_column = entry.get("line_number_as")
    if line_column is not None and line_column not in canonical:
        raise MappingError(f"{where}: `line_number_as` names {line_column!r}, not a column of {entity}")
    mapped = [*mapped, *([line_column] if line_column else [])]
    for name, listed in (("key", key), ("order_by", tuple(entry.get("order_by", ()))),
                         ("optional", tuple(entry.get("optional", ()))),
                         ("reader_types", tuple(entry.get("reader_types", {}))),
                         ("values", tuple(entry.get("values", {})))):
        missing = [column for column in listed if column not in mapped]
        if missing:
            raise MappingError(f"{where}: `{name}` names {', '.join(missing)}, which no export column maps to")
    if file_format == "text" and not all(str(header).isdigit() for header in columns):
        raise MappingError(f"{where}: a text file has no header: name its fields by position (\"1\" = ...)")
    types = entry.get("reader_types", {})
    if file_format != "csv" and types:
        raise MappingError(f"{where}: reader_types only apply to CSV files")
    bad_types = sorted({str(t) for t in types.values()} - READER_TYPES)
    if bad_types:
        raise MappingError(f"{where}: reader type {', '.join(bad_types)} is not one of "
                           f"{', '.join(sorted(READER_TYPES))}")
    for name, allowed in (("encoding", ENCODINGS), ("dates", tuple(DATE_STYLES)), ("decimal", (",", "."))):
        if entry.get(name, AUTO) not in (AUTO, *allowed):
            raise MappingError(f"{where}: `{name}` is {entry[name]!r}; \"auto\" or one of {', '.join(allowed)}")
    if entry.get("extra_columns", "fail") not in ("fail", "ignore"):
        raise MappingError(f"{where}: `extra_columns` is \"fail\" or \"ignore\"")
    values = {column: {str(raw).strip().lower(): str(meaning) for raw, meaning in table.items()}
              for column, table in entry.get("values", {}).items()}
    return Source(entity=entity, file=need("file", str), format=file_format, columns=dict(columns), key=key,
                  delimiter=entry.get("delimiter", AUTO), order_by=tuple(entry.get("order_by", ())),
                  optional_columns=frozenset(entry.get("optional", ())), reader_types=dict(types), values=values,
                  encoding=entry.get("encoding", AUTO), dates=entry.get("dates", AUTO),
                  decimal=entry.get("decimal", AUTO), extra_columns=entry.get("extra_columns", "fail"),
                  line_number_as=line_column, defaults={str(k): str(v) for k, v in entry.get("defaults", {}).items()})


def seed_sources() -> tuple[Source, ...]:
    """The seed's own exports, as `etl/mappings/seed.toml` describes them."""
    return load_mapping(SEED_MAPPING)
