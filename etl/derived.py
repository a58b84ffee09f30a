"""Columns a mapping computes from export columns, for exports that write a value differently
from our tables (see `Derivation` in etl/sources.py for the operations and why each exists).
Each returns SQL over the raw relation, whose export columns carry their canonical names and
whose helper columns are named by `Source.helper_columns`."""
from __future__ import annotations

from etl.sources import Derivation, Source


def _read_as(source: Source, header: str) -> str:
    """The name an export column has in the raw relation (its canonical name when it is also
    mapped, else its helper name)."""
    return source.read_columns[header]


def expression(source: Source, column: str) -> str:
    how: Derivation = source.derived[column]
    first = _read_as(source, how.headers[0])
    if how.op == "minutes_after":
        minutes = f"TRY_CAST(replace(trim(CAST({first} AS VARCHAR)), ',', '.') AS DOUBLE)"
        return (f"CAST(parse_moment({how.base}) + to_microseconds(CAST(round({minutes} * 60000000) AS BIGINT)) "
                f"AS VARCHAR)")
    if how.op == "product":
        second = _read_as(source, how.headers[1])
        factors = [f"TRY_CAST(replace(trim(CAST({h} AS VARCHAR)), ',', '.') AS DECIMAL(18, 4))"
                   for h in (first, second)]
        return f"CAST(round({factors[0]} * {factors[1]}, 2) AS VARCHAR)"
    if how.op == "digits_of":
        return f"nullif(regexp_replace(CAST({first} AS VARCHAR), '[^0-9]', '', 'g'), '')"
    if how.op == "per_group":
        return first  # filled over the group by `group_values`
    if how.op == "occurrence":
        # Compared trimmed, as the key compares them once staged.
        alike = ", ".join(f"trim(CAST({_read_as(source, header)} AS VARCHAR))" for header in how.headers)
        return f"CAST(row_number() OVER (PARTITION BY {alike} ORDER BY _position) AS VARCHAR)"
    raise ValueError(f"unknown derivation {how.op}")


def needs_groups(source: Source) -> bool:
    """Whether a derivation reads other rows (a group's value, a row's number among its like),
    which needs the file's order kept by position."""
    return any(how.op in ("per_group", "occurrence") for how in source.derived.values())


def group_values(source: Source) -> str:
    """REPLACE items giving every row of a group the value one of its rows carries."""
    items = []
    for how in source.derived.values():
        if how.op == "per_group":
            value, group = _read_as(source, how.headers[0]), _read_as(source, how.headers[1])
            items.append(f"max(nullif(trim(CAST({value} AS VARCHAR)), '')) OVER (PARTITION BY {group}) AS {value}")
    return ", ".join(items)
