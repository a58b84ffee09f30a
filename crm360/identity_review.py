"""Decisions on possible duplicate customers: a person on the data-health page says whether two
records are the same person. Kept in a SQLite file of their own beside the published database
(like campaigns), so every ETL run reads them and none loses them: a confirmed pair is merged by
the next load (etl/identity.py), a rejected pair is never proposed again.

A later decision on the same pair replaces the earlier one; every decision is kept in `history`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from crm360 import config
from crm360.sqlite_store import SqliteStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS decisions (
    customer_a INTEGER NOT NULL, customer_b INTEGER NOT NULL, same_person INTEGER NOT NULL,
    decided_by TEXT NOT NULL, decided_at TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (customer_a, customer_b));
CREATE TABLE IF NOT EXISTS history (
    customer_a INTEGER NOT NULL, customer_b INTEGER NOT NULL, same_person INTEGER NOT NULL,
    decided_by TEXT NOT NULL, decided_at TEXT NOT NULL, note TEXT NOT NULL DEFAULT '');
"""
MAX_TEXT = 200


class DecisionError(ValueError):
    """A decision that cannot be saved as given, with the reason for the user."""


@dataclass(frozen=True)
class Decision:
    customer_a: int
    customer_b: int
    same_person: bool
    decided_by: str
    decided_at: datetime
    note: str = ""


class DecisionStore(SqliteStore):
    SCHEMA = SCHEMA

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(path or config.identity_decisions_path())

    def decide(self, customer_a: int, customer_b: int, same_person: bool, decided_by: str, note: str = "",
               at: datetime | None = None) -> Decision:
        """Record that two customers are (or are not) one person; the pair in either order."""
        first, second = sorted((int(customer_a), int(customer_b)))
        if first == second:
            raise DecisionError("A customer cannot be a duplicate of themself.")
        decided_by, note = decided_by.strip(), note.strip()
        if not decided_by:
            raise DecisionError("Say who decides (your name), so the merge can be traced.")
        for label, value in (("name", decided_by), ("note", note)):
            if len(value) > MAX_TEXT:
                raise DecisionError(f"The {label} is {len(value):,} characters; {MAX_TEXT} at most.")
        decision = Decision(first, second, bool(same_person), decided_by, (at or datetime.now()).replace(microsecond=0),
                            note)
        row = (first, second, int(decision.same_person), decided_by, decision.decided_at.isoformat(), note)
        with self._write() as con:
            con.execute("INSERT OR REPLACE INTO decisions VALUES (?, ?, ?, ?, ?, ?)", row)
            con.execute("INSERT INTO history VALUES (?, ?, ?, ?, ?, ?)", row)
        return decision

    def decisions(self) -> list[Decision]:
        """The decision in force for each pair, in the order of the pairs."""
        with self._connection() as con:
            rows = con.execute("SELECT * FROM decisions ORDER BY customer_a, customer_b").fetchall()
        return [Decision(a, b, bool(same), by, datetime.fromisoformat(at), note) for a, b, same, by, at, note in rows]

    def decided_pairs(self) -> set[tuple[int, int]]:
        return {(d.customer_a, d.customer_b) for d in self.decisions()}
