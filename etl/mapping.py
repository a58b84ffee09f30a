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
from pathlib import Path, PurePosixPath

from crm360 import config
from crm360.textnorm import fold_text
from etl.detect import DATE_STYLES, ENCODINGS
from etl.sources import (
    AUTO,
    DERIVATIONS,
    ENTITY_COLUMNS,
    ENTITY_ORDER,
    FORMATS,
    IDENTITY_FIELDS,
    Derivation,
    Source,
)

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


def read_mapping(path: Path | list[Path]) -> Mapping:
    """The whole mapping: its sources and the settings that concern more than one of them. Several
    files combine (a CRM's, a helpdesk's and a shop's mapping for one company's exports)."""
    paths = [Path(p) for p in path] if isinstance(path, list) else [Path(path)]
    sources = _one_source_per_entity([s for p in paths for s in load_mapping(p)], paths)
    documents = [tomllib.loads(p.read_text(encoding="utf-8")) for p in paths]
    path = paths[0] if len(paths) == 1 else ", ".join(p.name for p in paths)
    settings = [d.get("customers_from") for d in documents if d.get("customers_from") is not None]
    if len(settings) > 1:
        raise MappingError(f"{path}: `customers_from` is set in more than one mapping file")
    customers_from = settings[0] if settings else None
    entities = {s.entity for s in sources}
    identified = any(s.identity for s in sources)
    if customers_from is not None:
        if any(s.entity == customers_from and s.is_pattern for s in sources):
            raise MappingError(f"{path}: customers are made from one file; `customers_from` names a file pattern")
        if "customers" in entities:
            raise MappingError(f"{path}: customers come from a file, so `customers_from` must go")
        if customers_from not in entities or "customer_id" not in ENTITY_COLUMNS[customers_from]:
            raise MappingError(f"{path}: `customers_from` names {customers_from!r}, which is not a source "
                               "with customer numbers here")
    elif "customers" not in entities and not identified:
        raise MappingError(f"{path}: no customers source; add one, set customers_from = \"purchases\" "
                           "(or another source with customer numbers), or identify customers in a source "
                           "([source.identity])")
    earliest_dates = []
    for document in documents:
        earliest = str(document.get("earliest_event", config.EARLIEST_EVENT_DATE))
        try:
            earliest_dates.append(date.fromisoformat(earliest))
        except ValueError as error:
            raise MappingError(f"{path}: `earliest_event` {earliest!r} is not a date (YYYY-MM-DD)") from error
    return Mapping(sources, customers_from, min(earliest_dates).isoformat())


def _one_source_per_entity(sources: list[Source], paths: list[Path]) -> tuple[Source, ...]:
    seen: dict[str, str] = {}
    for source in sources:
        if source.entity in seen:
            where = paths[0] if len(paths) == 1 else ", ".join(p.name for p in paths)
            raise MappingError(f"{where}: {source.entity} is fed by both {seen[source.entity]} and {source.file}")
        seen[source.entity] = source.file
    return tuple(sorted(sources, key=lambda s: ENTITY_ORDER.index(s.entity)))


def find_mapping(raw_dir: Path, explicit: Path | list[Path] | None = None) -> list[Path]:
    """The mapping files for a raw directory: those given; else the directory's own (every
    `*.toml` in it: a company may keep one per system); else the seed's."""
    if explicit:
        return [Path(p) for p in explicit] if isinstance(explicit, list) else [Path(explicit)]
    own = sorted(raw_dir.glob("*.toml"))
    return own or [SEED_MAPPING]


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
    return _one_source_per_entity(sources, [Path(path)])


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
    derived = _derivations(entry.get("derived", {}), canonical, set(columns.values()), where)
    identity = _identity(entry.get("identity", {}), entity, columns, where)
    unknown_defaults = sorted(set(entry.get("defaults", {})) - canonical)
    if unknown_defaults:
        raise MappingError(f"{where}: `defaults` names {', '.join(unknown_defaults)}, not columns of {entity}")
    line_column = entry.get("line_number_as")
    if line_column is not None and line_column not in canonical:
        raise MappingError(f"{where}: `line_number_as` names {line_column!r}, not a column of {entity}")
    mapped = [*mapped, *([line_column] if line_column else []), *derived,
              *(["customer_id"] if identity else [])]
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
    values = {column: {fold_text(str(raw)): str(meaning) for raw, meaning in table.items()}
              for column, table in entry.get("values", {}).items()}
    file = _file_in_raw_folder(need("file", str), where)
    return Source(entity=entity, file=file, format=file_format, columns=dict(columns), key=key,
                  delimiter=entry.get("delimiter", AUTO), order_by=tuple(entry.get("order_by", ())),
                  optional_columns=frozenset(entry.get("optional", ())), reader_types=dict(types), values=values,
                  encoding=entry.get("encoding", AUTO), dates=entry.get("dates", AUTO),
                  decimal=entry.get("decimal", AUTO), extra_columns=entry.get("extra_columns", "fail"),
                  line_number_as=line_column, defaults={str(k): str(v) for k, v in entry.get("defaults", {}).items()},
                  derived=derived, identity=identity, defined_in=where)


def _file_in_raw_folder(file: str, where: str) -> str:
    """A file name or pattern relative to the raw folder: an absolute path or `..` could read any
    file on the machine into a table (`/etc/passwd`, a secrets file next to the exports)."""
    path = PurePosixPath(file.replace("\\", "/"))
    if not file.strip() or path.is_absolute() or ".." in path.parts:
        raise MappingError(f"{where}: `file` {file!r} must name a file inside the raw folder "
                           "(no absolute path, no `..`)")
    return file


def _derivations(table: object, canonical: set[str], mapped: set[str], where: str) -> dict[str, Derivation]:
    """`[source.derived]`: column = { op = ..., ... }, checked for what each operation needs."""
    if not isinstance(table, dict):
        raise MappingError(f"{where}: `derived` must be a table of column = {{ ... }}")
    derivations = {}
    for column, spec in table.items():
        if column not in canonical:
            raise MappingError(f"{where}: `derived` names {column!r}, not a column of this table")
        if column in mapped:
            raise MappingError(f"{where}: {column} is both mapped from an export column and derived")
        ops = [op for op in DERIVATIONS if isinstance(spec, dict) and op in spec]
        if len(ops) != 1:
            raise MappingError(f"{where}: derived {column} needs exactly one of {', '.join(DERIVATIONS)}")
        op = ops[0]
        needs = {"minutes_after": ("minutes",), "per_group": ("group",)}.get(op, ())
        missing = [name for name in needs if not isinstance(spec.get(name), str)]
        if missing:
            raise MappingError(f"{where}: derived {column} ({op}) needs {', '.join(missing)} (an export column)")
        if op == "minutes_after":
            if spec[op] not in mapped:
                raise MappingError(f"{where}: derived {column} counts minutes after {spec[op]!r}, which no export "
                                   "column maps to")
            derivations[column] = Derivation(op, (spec["minutes"],), base=spec[op])
        elif op == "product":
            factors = spec[op]
            if not (isinstance(factors, list) and len(factors) == 2 and all(isinstance(f, str) for f in factors)):
                raise MappingError(f"{where}: derived {column}: product takes two export columns")
            derivations[column] = Derivation(op, tuple(factors))
        elif op == "per_group":
            derivations[column] = Derivation(op, (str(spec[op]), spec["group"]))
        elif op == "occurrence":
            alike = spec[op]
            if not (isinstance(alike, list) and alike and all(isinstance(a, str) for a in alike)):
                raise MappingError(f"{where}: derived {column}: occurrence takes a list of export columns")
            derivations[column] = Derivation(op, tuple(alike))
        else:
            derivations[column] = Derivation(op, (str(spec[op]),))
    return derivations


def _identity(table: object, entity: str, columns: dict[str, str], where: str) -> dict[str, str]:
    """`[source.identity]`: export header = identity field, for rows without our customer number."""
    if not isinstance(table, dict):
        raise MappingError(f"{where}: `identity` must be a table of export column = field")
    if not table:
        return {}
    if "customer_id" not in ENTITY_COLUMNS[entity] or entity == "customers":
        raise MappingError(f"{where}: `identity` is for sources whose rows belong to a customer")
    if "customer_id" in columns.values():
        raise MappingError(f"{where}: the rows carry a customer number, so `identity` must go (or the number)")
    unknown = sorted(set(map(str, table.values())) - set(IDENTITY_FIELDS))
    if unknown:
        raise MappingError(f"{where}: identity field {', '.join(unknown)} is not one of {', '.join(IDENTITY_FIELDS)}")
    if not set(table.values()) & {"external_id", "email", "phone"}:
        raise MappingError(f"{where}: `identity` needs an external_id, email or phone column to link records by")
    doubled = sorted(set(table) & set(columns))
    if doubled:
        raise MappingError(f"{where}: {', '.join(doubled)} is mapped to a column and to an identity field")
    return {str(header): str(name) for header, name in table.items()}


def seed_sources() -> tuple[Source, ...]:
    """The seed's own exports, as `etl/mappings/seed.toml` describes them."""
    return load_mapping(SEED_MAPPING)
