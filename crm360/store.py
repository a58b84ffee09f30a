"""Where the database lives and how a new one replaces the old without anyone noticing.

DuckDB lets one process write a file and locks every other process out of it, even read-only
readers; and a reader that reopens a path may be handed the old, cached database instance. So
the ETL never writes the file the app reads. Each load builds a new versioned file
(`crm.<timestamp>.duckdb`) beside the live one, and the published path (`crm.duckdb`) is a
symbolic link swapped atomically with `os.replace`. A reader resolves the link on every query and
opens the version it points to under that version's own name: a new version is a new path, so
there is no stale instance, and a version being read is never written again.
"""
from __future__ import annotations

import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Iterator
from concurrent.futures import Executor, Future
from contextlib import closing, contextmanager
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import duckdb
import polars as pl

VERSION_INFIX = ".v"
T = TypeVar("T")
MEMO_ENTRIES_PER_VERSION = 256


def version_path(published: Path, stamp: datetime | None = None) -> Path:
    """A fresh, unique file name for the next version of `published`."""
    stamp = stamp or datetime.now()
    base = published.with_suffix("")
    name = f"{base.name}{VERSION_INFIX}{stamp:%Y%m%dT%H%M%S%f}{published.suffix}"
    return published.with_name(name)


def current_version(published: Path) -> Path | None:
    """The versioned file the published path points to, or None when nothing is published."""
    if published.is_symlink():
        target = Path(os.readlink(published))
        target = target if target.is_absolute() else published.parent / target
        return target if target.exists() else None
    return published if published.exists() else None


def publish(published: Path, built: Path, keep: int = 2, unreadable: Collection[Path] = ()) -> None:
    """Point `published` at `built` in one atomic step, then drop the `unreadable` versions (a
    truncated or corrupt file the run passed over) and the readable ones beyond the newest `keep`:
    what is kept is what a later run can fall back on, never a broken file in a good one's place.

    A reader holding an older version open keeps reading it: the file is unlinked, not
    changed, and the operating system keeps its contents until the reader lets go.
    """
    if published.exists() and not published.is_symlink():
        raise RuntimeError(
            f"{published} is a plain file; move it away so the ETL can manage versions there")
    link = published.with_name(f".{published.name}.{os.getpid()}.link")
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(built.name)
    os.replace(link, published)
    _fsync_dir(published.parent)
    broken = {Path(version) for version in unreadable} - {built}
    readable = [version for version in all_versions(published) if version not in broken]
    for old in [*broken, *readable[:-keep]]:
        for stale in (old, old.with_name(old.name + ".wal")):
            stale.unlink(missing_ok=True)


def version_stamp(version: Path) -> datetime | None:
    """When the run that built `version` began, from its name; None for a name not made here."""
    stamp = version.with_suffix("").name.rpartition(VERSION_INFIX)[2]
    try:
        return datetime.strptime(stamp, "%Y%m%dT%H%M%S%f")
    except ValueError:
        return None


def all_versions(published: Path) -> list[Path]:
    """Finished versions of `published`, oldest first (the stamp sorts as text)."""
    stem = published.with_suffix("").name + VERSION_INFIX
    return sorted(
        p for p in published.parent.glob(f"{stem}*{published.suffix}")
        if not p.name.endswith(".building" + published.suffix)
    )


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_POLARS_TYPES = {
    "BOOLEAN": pl.Boolean, "TINYINT": pl.Int8, "SMALLINT": pl.Int16, "INTEGER": pl.Int32, "BIGINT": pl.Int64,
    "HUGEINT": pl.Int64, "UTINYINT": pl.UInt8, "USMALLINT": pl.UInt16, "UINTEGER": pl.UInt32,
    "UBIGINT": pl.UInt64, "FLOAT": pl.Float32, "DOUBLE": pl.Float64, "DATE": pl.Date,
    "TIMESTAMP": pl.Datetime("us"), "VARCHAR": pl.String,
}


def _polars_type(duckdb_type: str) -> pl.DataType | None:
    """The polars type for a DuckDB result column, so that an empty result keeps its types.
    Money is DECIMAL in the tables and a float on a page; a sum of counts (HUGEINT in DuckDB)
    fits 64 bits and charts cannot draw 128-bit integers; unknown types are inferred."""
    if duckdb_type.startswith("DECIMAL"):
        return pl.Float64
    return _POLARS_TYPES.get(duckdb_type)


class Snapshot:
    """Queries that must see one version of the database: a lookup's profile and its rows."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, version: Path) -> None:
        self.cursor = cursor
        self.version = version  # the file read, a key for caches of small reference tables

    def frame(self, sql: str, params: list | None = None) -> pl.DataFrame:
        """Rows as a polars frame. They come back as Python tuples: for the few rows a page shows
        this is several times faster than an Arrow hand-off, whose cost grows with the number of
        columns."""
        self.cursor.execute(sql, params or [])
        schema = {name: _polars_type(str(kind)) for name, kind, *_ in self.cursor.description}
        rows = self.cursor.fetchall()
        return pl.DataFrame(rows, schema=schema, orient="row", strict=False)

    def arrow_frame(self, sql: str, params: list | None = None) -> pl.DataFrame:
        """Rows as a polars frame through Arrow: for thousands of rows or list columns, where
        building Python tuples costs far more than the hand-off (a 200,000-row list: 0.1 s
        against 6 s)."""
        return pl.from_arrow(self.cursor.sql(sql, params=params or []).to_arrow_table())

    def memo(self, key: Hashable, load: Callable[[], T]) -> T:
        """`load()` once per database version and process: reference tables, the name index, lists
        that do not depend on what a user chose. An older version's entries are dropped when a
        new version is first read; within a version the oldest go past a fixed number, so keys
        that carry a moving clock cannot grow without bound."""
        version = str(self.version)
        with _MEMO_LOCK:
            if (version, key) not in _MEMO:
                for stale in [k for k in _MEMO if k[0] != version]:
                    del _MEMO[stale]
                _MEMO[(version, key)] = load()
                while len(_MEMO) > MEMO_ENTRIES_PER_VERSION:
                    _MEMO.popitem(last=False)
            return _MEMO[(version, key)]  # type: ignore[return-value]

    def frame_in_parallel(self, pool: Executor, sql: str, params: list | None = None) -> Future[pl.DataFrame]:
        """Run a query of this snapshot on another thread (on a cursor of its own, same version):
        DuckDB lets go of the GIL while it works, so independent reads overlap on a second core."""
        return self.in_parallel(pool, lambda snap: snap.frame(sql, params))

    def in_parallel(self, pool: Executor, work: Callable[[Snapshot], T]) -> Future[T]:
        """`work(snapshot)` on another thread, on a cursor of its own reading the same version."""
        def run() -> T:
            with closing(self.cursor.cursor()) as cursor:
                return work(Snapshot(cursor, self.version))
        return pool.submit(run)


_MEMO: OrderedDict[tuple[str, Hashable], object] = OrderedDict()
_MEMO_LOCK = threading.Lock()  # the warm-up thread and the pages fill it concurrently


class NoDatabase(RuntimeError):
    """Raised when nothing has been published at the configured path yet."""


class Database:
    """One read-only connection per process and version; a fresh cursor per query.

    Thread-safe: Streamlit serves each session on its own thread, and DuckDB connections are
    not safe to share across threads, while cursors from one connection are.
    """

    def __init__(self, published: Path, warm_up: Callable[[Snapshot], None] | None = None) -> None:
        """`warm_up` runs on a background thread each time a new version is opened: the app uses it
        to read the lookup tables into DuckDB's buffer pool, so the first lookups after a
        publish are as fast as the rest (`warmed` is set when it is done)."""
        self.published = Path(published)
        self._lock = threading.Lock()
        self._version: Path | None = None
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._warm_up = warm_up
        self.warmed = threading.Event()

    @property
    def version(self) -> Path | None:
        return current_version(self.published)

    def _connect(self) -> tuple[duckdb.DuckDBPyConnection, Path]:
        version = current_version(self.published)
        if version is None:
            raise NoDatabase(f"No database at {self.published}")
        with self._lock:
            if version != self._version or self._connection is None:
                # The previous connection is dropped, not closed: cursors still running on
                # other threads keep it alive until they finish.
                self._connection = duckdb.connect(str(version), read_only=True)
                self._version = version
                self._start_warm_up(self._connection, version)
            return self._connection, version

    def _start_warm_up(self, connection: duckdb.DuckDBPyConnection, version: Path) -> None:
        self.warmed.clear()
        if self._warm_up is None:
            self.warmed.set()
            return

        def run() -> None:
            cursor = connection.cursor()
            try:
                self._warm_up(Snapshot(cursor, version))
            except Exception as error:  # a warm-up is an optimisation: report it, serve anyway
                print(f"warm-up of {version.name} failed: {error}", file=sys.stderr)
            finally:
                cursor.close()
                self.warmed.set()

        threading.Thread(target=run, name=f"warm-up {version.name}", daemon=True).start()

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with self.snapshot() as snap:
            yield snap.cursor

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """Several queries on one cursor, so they all read the same published version even if
        the ETL publishes a new one between them (and the version is resolved only once)."""
        connection, version = self._connect()
        cursor = connection.cursor()
        try:
            yield Snapshot(cursor, version)
        finally:
            cursor.close()

    def frame(self, sql: str, params: list | None = None) -> pl.DataFrame:
        """Run one query on a fresh cursor and return its rows as a polars frame."""
        with self.snapshot() as snap:
            return snap.frame(sql, params)

    def arrow_frame(self, sql: str, params: list | None = None) -> pl.DataFrame:
        with self.snapshot() as snap:
            return snap.arrow_frame(sql, params)

    def memo(self, key: Hashable, load: Callable[[Snapshot], T]) -> T:
        """`load(snapshot)` once per published version (see `Snapshot.memo`)."""
        with self.snapshot() as snap:
            return snap.memo(key, lambda: load(snap))

    def row(self, sql: str, params: list | None = None) -> tuple | None:
        with self.cursor() as cur:
            return cur.execute(sql, params or []).fetchone()

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
            self._connection = None
            self._version = None
