"""The small SQLite files the app writes beside the published database (campaigns, duplicate
decisions, users, the audit log): files of their own, so no ETL run ever replaces them.

WAL mode lets readers go on while one writer writes; every write is one short transaction that
takes the write lock at its start with a busy timeout, so two users saving at once both succeed,
one after the other.

Each store is readable by its owner only (crm360/private_files.py): the file is made 0600 before
SQLite opens it, and SQLite gives its -wal and -shm files the mode of the database file.
"""
from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from crm360.private_files import owner_only, private_file, private_folder

SIDE_FILES = ("-wal", "-shm", "-journal")


class SqliteStore:
    """A SQLite file with its schema created on first use; subclasses add what they store."""

    SCHEMA = ""
    ROWS_AS_DICTS = False   # sqlite3.Row rows (by column name) instead of tuples
    SYNCHRONOUS = "FULL"    # NORMAL: no fsync per commit (an app crash loses nothing; a power cut may)

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        private_folder(self.path.parent)
        with contextlib.suppress(OSError):  # a path SQLite cannot open either (a folder): its error says so below
            private_file(self.path)
        for suffix in SIDE_FILES:  # left by an earlier release with a wider mode
            owner_only(self.path.with_name(self.path.name + suffix))
        with self._connection() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(self.SCHEMA)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as con:
            if self.ROWS_AS_DICTS:
                con.row_factory = sqlite3.Row
            con.execute("PRAGMA foreign_keys=ON")
            con.execute(f"PRAGMA synchronous={self.SYNCHRONOUS}")
            yield con

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction that takes the write lock at its start (BEGIN IMMEDIATE), so a second
        writer waits for it instead of failing half-way."""
        with self._connection() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
