"""One ETL run: raw files -> staging -> core tables -> marts, built in a new database file that
is published only once complete. A run that fails leaves the published database as it was."""
from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import blake3
import duckdb

from crm360 import clock, config, desk, store
from crm360.private_files import owner_only, private_file, private_folder
from crm360.record import LOCAL_ZONE
from etl import desk_source, identity
from etl.extract import SourceError, physical_lines, readable
from etl.mapping import Mapping, MappingError, find_mapping, read_mapping
from etl.marts import build_marts
from etl.sources import ENTITY_ORDER, INDISPENSABLE, Source, leads_outside
from etl.transform import (
    FileCounts,
    FileOutcome,
    FileRule,
    create_macros,
    customers_from_facts,
    empty_table,
    stage_and_load_files,
)


@dataclass(frozen=True)
class LoadParams:
    raw_dir: Path
    db_path: Path
    max_rejected_share: float = config.MAX_REJECTED_SHARE
    memory_limit: str = config.ETL_MEMORY_LIMIT
    threads: int = os.cpu_count() or 2
    mapping: list[Path] | Path | None = None  # default: raw_dir/*.toml if any, else the seed's mapping
    # Review decisions on possible duplicates (crm360/identity_review.py); default: beside the database.
    decisions: Path | None = None
    # The agent desk store (crm360/desk.py), read as one more source; default: CRM_DESK or beside the database.
    desk: Path | None = None

    @property
    def decisions_path(self) -> Path:
        return self.decisions or self.db_path.with_name(config.IDENTITY_DECISIONS_FILE)


@dataclass
class FileReport:
    source: Source
    counts: FileCounts
    bytes: int
    checksum: str
    seconds: float
    failure: str | None = None  # why the file was not loaded; its table kept the previous load


@dataclass
class RunReport:
    run_id: str
    files: list[FileReport] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    mart_seconds: dict[str, float] = field(default_factory=dict)
    published: Path | None = None
    mapping: list[Path] = field(default_factory=list)
    # Versions found unreadable (truncated, corrupt) and why: passed over for history, then pruned.
    unreadable: list[tuple[Path, str]] = field(default_factory=list)
    # The newest readable version, looked for once a run: history and kept tables come from it.
    previous: Path | None = None

    @property
    def failures(self) -> list[str]:
        return [f.failure for f in self.files if f.failure]


class LoadFailed(RuntimeError):
    """The run stopped before publishing; the message says why, for a person to act on."""


Progress = Callable[[str], None]
# Run bookkeeping each version carries over from the one before it: the data-health page's history.
HISTORY_TABLES = ("etl_runs", "etl_run_stages", "model_fits")


def run_etl(params: LoadParams, progress: Progress = lambda message: None) -> RunReport:
    _check_database_path(params.db_path)
    with _exclusive_run(params.db_path):
        _remove_unfinished_builds(params.db_path)
        final = store.version_path(params.db_path)
        # DuckDB makes its files (the database, its WAL, spill files) with the umask's mode, so the
        # new version is built in a folder only the owner can enter and narrowed when published.
        workspace = private_folder(_workspace(params.db_path))
        building = workspace / final.name
        try:
            report = _build(params, building, progress)
            progress(f"publishing {final.name}")
            owner_only(building)
            os.replace(building, final)
            store.publish(params.db_path, final, keep=config.DB_VERSIONS_KEPT,
                          unreadable=[version for version, _ in report.unreadable])
            report.published = final
            return report
        finally:
            shutil.rmtree(workspace, ignore_errors=True)


def _check_database_path(db_path: Path) -> None:
    """Before anything is loaded: `db_path` can be published (not a folder, not a plain file), and
    its folder exists or can be made (0700)."""
    if db_path.is_dir():
        raise LoadFailed(f"{db_path} is a folder; name the database file in it (e.g. {db_path / 'crm.duckdb'})")
    if db_path.exists() and not db_path.is_symlink():
        raise LoadFailed(f"{db_path} is a plain file, not a database the ETL published; "
                         "move it away so the ETL can manage versions there")
    try:
        private_folder(db_path.parent)
    except OSError as error:
        raise LoadFailed(f"cannot make the database folder {db_path.parent}: {error.strerror}") from error


def _workspace(db_path: Path) -> Path:
    """The folder a version is built in, beside the published ones (so publishing is a rename)."""
    return db_path.with_name(f".{db_path.name}.building")


def _mapping(params: LoadParams) -> tuple[list[Path], Mapping]:
    paths = find_mapping(params.raw_dir, params.mapping)
    try:
        mapping = read_mapping(paths)
        for source in mapping.sources:  # before anything is read: every file stays in the raw folder
            source_files(params.raw_dir, source)
    except MappingError as error:
        raise LoadFailed(str(error)) from error
    return paths, mapping


def _build(params: LoadParams, building: Path, progress: Progress) -> RunReport:
    # Istanbul wall time, as the data's and the desk's times are: the load caps data_as_of at it.
    started_at = datetime.now(LOCAL_ZONE).replace(tzinfo=None)
    load_time = started_at.replace(microsecond=0)
    report = RunReport(run_id=started_at.strftime("%Y%m%dT%H%M%S.%f"))
    report.mapping, mapping = _mapping(params)
    sources = mapping.sources
    progress(f"mapping: {', '.join(str(p) for p in report.mapping)}")
    report.previous, report.unreadable = _warn_about_unreadable_versions(params.db_path, progress)
    con = duckdb.connect(str(building))
    try:
        con.execute(f"SET memory_limit = '{params.memory_limit}'")
        con.execute(f"SET threads = {params.threads}")
        con.execute("SET preserve_insertion_order = true")
        con.execute(f"SET temp_directory = '{building.parent / 'spill'}'")
        con.execute("SET VARIABLE load_time = ?::TIMESTAMP", [load_time])
        con.execute("SET VARIABLE run_id = ?", [report.run_id])
        con.execute("SET VARIABLE earliest_event = ?::TIMESTAMP", [mapping.earliest_event])
        identity.create_tables(con, _review_decisions(params.decisions_path))
        create_macros(con)
        desk_dir = building.parent / "desk"
        desk_cursor = _export_desk(params, desk_dir, progress)
        desk_sources = {source.entity: source for source in desk_source.sources()} if desk_cursor is not None else {}
        with ThreadPoolExecutor(max_workers=1) as hasher:
            digests = {path.name: hasher.submit(_file_facts, path) for s in sources
                       for path in source_files(params.raw_dir, s) if path.is_file()}
            digests.update({path.name: hasher.submit(_file_facts, path) for s in desk_sources.values()
                            for path in source_files(desk_dir, s)})
            load_started = time.perf_counter()
            by_entity = {source.entity: source for source in sources}
            for entity in ENTITY_ORDER:
                if entity in by_entity:
                    report.files.extend(_load_source(con, params, by_entity[entity], report, digests, progress))
                elif entity == "customers" and mapping.customers_from:
                    report.files.append(_derive_customers(con, params, by_entity[mapping.customers_from], progress))
                elif entity in desk_sources:
                    report.files.extend(_load_source(con, replace(params, raw_dir=desk_dir), desk_sources[entity],
                                                     report, digests, progress))
                elif entity == "iys_consents":  # refusals once loaded are never dropped by leaving a mapping out
                    kept = _keep_previous(con, report.previous, entity, failed=False)
                    progress(f"no İYS export in this run's mappings: {kept}")
                else:
                    progress(f"no export for {entity}: its table is empty")
                    empty_table(con, entity)
                if entity == "customers":
                    _merge_customer_records(con, report, progress)
                    report.files.extend(_link_identities(con, params, sources, progress))
            joined = desk_source.apply(con, desk_cursor)
            progress("desk: " + ", ".join(f"{count:,} {what}" for what, count in joined.items()))
            report.stage_seconds["load"] = time.perf_counter() - load_started
        started = time.perf_counter()
        progress("building marts")
        report.mart_seconds = build_marts(con)
        report.stage_seconds["marts"] = time.perf_counter() - started
        _warn_about_failed_fits(con, report.run_id, progress)
        _write_run_tables(con, params, report, load_time)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return report


def _export_desk(params: LoadParams, folder: Path, progress: Progress) -> int | None:
    """The desk store's rows written for this run (etl/desk_source.py); the cursor they reflect."""
    path = params.desk or desk.store_path_beside(params.db_path)
    try:
        cursor = desk_source.export(path, folder)
    except (sqlite3.Error, OSError) as error:
        raise LoadFailed(f"{path}: cannot read the agent desk ({error})") from error
    progress(f"agent desk: {path}, through change {cursor}" if cursor is not None
             else f"agent desk: no store at {path} yet")
    return cursor


def _review_decisions(path: Path) -> list[tuple]:
    try:
        return identity.read_decisions(path)
    except sqlite3.Error as error:
        raise LoadFailed(f"{path}: cannot read the duplicate review decisions ({error})") from error


def _warn_about_failed_fits(con: duckdb.DuckDBPyConnection, run_id: str, progress: Progress) -> None:
    failed = con.execute("SELECT purpose, model, message FROM model_fits WHERE run_id = ? AND NOT converged",
                         [run_id]).fetchall()
    for purpose, model, message in failed:
        left_out = ("the scores that depend on it are left empty in this version" if purpose == "scoring"
                    else "the model page shows no holdout check for this version")
        progress(f"warning: the {model} fit ({purpose}) did not converge ({message}); {left_out}")


def source_files(raw_dir: Path, source: Source) -> list[Path]:
    """The files a source reads: its file, or every file its pattern (`orders-*.csv`) matches, in
    name order (exports named by date sort as they were made). A file that is a link leading
    outside the raw folder is a MappingError, never read."""
    if source.is_pattern:
        paths = sorted(path for path in raw_dir.glob(source.file) if path.is_file())
    else:
        paths = [raw_dir / source.file]
    for path in paths:
        target = leads_outside(raw_dir, path)
        if target is not None:
            matched = f"matches {path.relative_to(raw_dir)}, which" if source.is_pattern else "is a link that"
            raise MappingError(f"{source.defined_in}: `file` {source.file!r} {matched} leads to {target}, "
                               f"outside the raw folder {raw_dir}")
    return paths


def _load_source(con: duckdb.DuckDBPyConnection, params: LoadParams, source: Source, report: RunReport,
                 digests: dict[str, Future], progress: Progress) -> list[FileReport]:
    """Load a source's files. A file that cannot be loaded (missing, empty, unreadable, a header
    without its columns, too many rejected rows) fails alone: the other files of its pattern and
    the other sources load, and the run reports it, with none of its rows counted as loaded.
    When no file of a source loads, its table keeps the previous load. Only customers and a mapped
    İYS register are indispensable: without customers (and no earlier load of them) there is
    nothing to publish, and without the İYS refusals a marketing list could reach people who
    refused."""
    paths = source_files(params.raw_dir, source)
    started = time.perf_counter()
    progress(f"loading {source.file}" + (f" ({len(paths)} files)" if len(paths) > 1 else ""))
    if paths:
        def lines_in(path: Path) -> int:
            return digests[path.name].result().lines if path.name in digests else physical_lines(path)
        outcomes = stage_and_load_files(con, source, paths, report.run_id, _rejection_rule(con, params), lines_in)
    else:
        outcomes = [FileOutcome(FileCounts(), f"{source.file}: no file in {params.raw_dir} matches")]
    seconds = (time.perf_counter() - started) / max(1, len(paths))
    names = [path.name for path in paths] or [source.file]
    for name, outcome in zip(names, outcomes, strict=True):
        if not outcome.failure and not outcome.counts.reconciles:
            raise LoadFailed(f"{name}: counts do not add up: {outcome.counts}")
    _say_what_stands(con, report.previous, source, outcomes)
    for name, outcome in zip(names, outcomes, strict=True):
        counts = outcome.counts
        progress(f"FAILED {outcome.failure}" if outcome.failure else
                 f"{name}: {counts.rows_read:,} read, {counts.rows_loaded:,} loaded, "
                 f"{counts.rows_duplicate:,} duplicates, {counts.rows_rejected:,} rejected "
                 f"({seconds:.1f} s)" + "".join(f"; {note}" for note in counts.notes))
    if not paths:
        return [FileReport(source, FileCounts(), 0, "", seconds, outcomes[0].failure)]
    return [FileReport(replace(source, file=path.name), outcome.counts,
                       path.stat().st_size if path.is_file() else 0,
                       digests[path.name].result().checksum if path.name in digests else "", seconds,
                       outcome.failure)
            for path, outcome in zip(paths, outcomes, strict=True)]


def _say_what_stands(con: duckdb.DuckDBPyConnection, previous: Path | None, source: Source,
                     outcomes: list[FileOutcome]) -> None:
    """Add to each failure what the table holds instead: the other files of the pattern, or,
    when no file loaded, the previous load (raises LoadFailed when customers have none)."""
    if all(outcome.failure for outcome in outcomes):
        kept = _keep_previous(con, previous, source.entity)
        if kept is None:
            raise LoadFailed(f"{outcomes[0].failure}; no earlier load of {source.entity} to keep, "
                             "and the app needs them")
        for outcome in outcomes:
            outcome.failure += "; " + kept
        return
    loaded = sum(not outcome.failure for outcome in outcomes)
    for outcome in outcomes:
        if outcome.failure:
            outcome.failure += (f"; none of its rows loaded, the other {loaded:,} file{'s' if loaded > 1 else ''} "
                                f"of {source.file} did")


def _rejection_rule(con: duckdb.DuckDBPyConnection, params: LoadParams) -> FileRule:
    """A file with more rejected rows than the share allowed does not load: an export that
    broke (a shifted column, a changed format) must not replace good data with a remnant."""
    def rule(path: Path, counts: FileCounts) -> str | None:
        if counts.rows_read and counts.rows_rejected / counts.rows_read > params.max_rejected_share:
            return (f"{path.name}: {counts.rows_rejected:,} of {counts.rows_read:,} rows rejected "
                    f"({counts.rows_rejected / counts.rows_read:.1%}), more than the "
                    f"{params.max_rejected_share:.0%} allowed (--max-rejected); first reasons: "
                    + _top_reasons(con, path.name))
        return None
    return rule


def _derive_customers(con: duckdb.DuckDBPyConnection, params: LoadParams, source: Source,
                      progress: Progress) -> FileReport:
    started = time.perf_counter()
    path = params.raw_dir / source.file
    try:
        with readable(con, source, path) as found:
            customers = customers_from_facts(con, found)
    except SourceError as error:
        raise LoadFailed(f"{error}; customers are made from this file, and the app needs them") from error
    progress(f"customers made from the customer numbers in {source.file}: {customers:,}")
    derived = replace(source, entity="customers", file=f"customers from {source.file}")
    return FileReport(derived, FileCounts(customers, customers, 0, 0, 0), 0, "", time.perf_counter() - started)


def _merge_customer_records(con: duckdb.DuckDBPyConnection, report: RunReport, progress: Progress) -> None:
    merged = identity.merge_customer_records(con)
    if merged:
        customers = next(f for f in report.files if f.source.entity == "customers")
        customers.counts.rows_merged += merged
        customers.counts.rows_loaded -= merged
        progress(f"{merged:,} customer records merged into another record of the same person")


def _link_identities(con: duckdb.DuckDBPyConnection, params: LoadParams, sources: tuple[Source, ...],
                     progress: Progress) -> list[FileReport]:
    """Link the rows of sources without our customer numbers to customers (etl/identity.py). A
    file read by two sources (a helpdesk export as contacts and as complaints) is read once."""
    files: dict[str, Source] = {}
    for source in sources:
        if source.identity:
            for path in source_files(params.raw_dir, source):
                files.setdefault(path.name, replace(source, file=path.name))
    if not files:
        return []
    started = time.perf_counter()
    for order, (name, source) in enumerate(files.items()):
        try:
            with readable(con, source, params.raw_dir / name) as found:
                identity.collect_source_records(con, found, order)
        except SourceError:
            continue  # the file's own load reports why and fails it alone
    linked = identity.link_source_records(con)
    reports = []
    for name, counts in linked.items():
        progress(f"{name}: {counts.records:,} customer records, {counts.linked:,} linked to known customers, "
                 f"{counts.new_customers:,} new customers, {counts.unlinked:,} matching several customers")
        merged = counts.records - counts.new_customers - counts.unlinked
        reports.append(FileReport(replace(files[name], entity="customers", file=f"customers in {name}"),
                                  FileCounts(rows_read=counts.records, rows_loaded=counts.new_customers,
                                             rows_merged=merged, rows_rejected=counts.unlinked),
                                  0, "", time.perf_counter() - started))
    return reports


def _keep_previous(con: duckdb.DuckDBPyConnection, previous: Path | None, entity: str, *,
                   failed: bool = True) -> str | None:
    """Put the entity's table of the published version back, or an empty one on a first load;
    says which, for the report. None when a failed file's indispensable table cannot be had:
    customers, or the İYS register with no earlier refusals to keep (an empty register kept is
    none kept: a list without the refusals must not be published)."""
    kept = None
    if previous is not None:
        try:
            con.execute("ATTACH ? AS kept_from (READ_ONLY)", [str(previous)])
            try:
                con.execute(f"CREATE OR REPLACE TABLE {entity} AS SELECT * FROM kept_from.{entity}")
                kept = con.execute(f"SELECT count(*) FROM {entity}").fetchone()[0]
            finally:
                con.execute("DETACH kept_from")
        except duckdb.Error:
            kept = None
    indispensable = failed and entity in INDISPENSABLE
    if kept is not None and not (kept == 0 and indispensable):
        return f"kept {entity} from the previous load ({kept:,} rows)"
    if indispensable:
        return None
    empty_table(con, entity)
    return f"{entity} is empty (no earlier load to keep)"


def _top_reasons(con: duckdb.DuckDBPyConnection, file: str) -> str:
    rows = con.execute("""
        SELECT field || ': ' || reason, count(*) FROM quarantine
        WHERE source_file = ? AND action = 'row_rejected'
        GROUP BY 1 ORDER BY 2 DESC LIMIT 3
    """, [file]).fetchall()
    return "; ".join(f"{reason} ({count:,})" for reason, count in rows)


def _write_run_tables(con: duckdb.DuckDBPyConnection, params: LoadParams, report: RunReport,
                      load_time: datetime) -> None:
    con.execute("""
        CREATE TABLE etl_runs (
            run_id VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, source_file VARCHAR,
            entity VARCHAR, bytes BIGINT, checksum VARCHAR, rows_read BIGINT, rows_loaded BIGINT,
            rows_duplicate BIGINT, rows_rejected BIGINT, values_cleared BIGINT, seconds DOUBLE,
            read_notes VARCHAR, failure VARCHAR, rows_merged BIGINT)
    """)
    con.execute("CREATE TABLE etl_run_stages (run_id VARCHAR, stage VARCHAR, seconds DOUBLE)")
    _carry_history(con, report.previous)
    _record_lost_runs(con, report.unreadable)
    finished = clock.wall()
    con.executemany(
        "INSERT INTO etl_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(report.run_id, load_time, finished, f.source.file, f.source.entity, f.bytes, f.checksum,
          f.counts.rows_read, f.counts.rows_loaded, f.counts.rows_duplicate,
          f.counts.rows_rejected, f.counts.values_cleared, f.seconds, "; ".join(f.counts.notes) or None,
          f.failure, f.counts.rows_merged) for f in report.files],
    )
    stages = {**report.stage_seconds, **{f"mart:{k}": v for k, v in report.mart_seconds.items()}}
    con.executemany("INSERT INTO etl_run_stages VALUES (?, ?, ?)",
                    [(report.run_id, stage, seconds) for stage, seconds in stages.items()])


def _carry_history(con: duckdb.DuckDBPyConnection, previous: Path | None) -> None:
    """Earlier runs' records come along, so the data-health page shows the history. Only the
    columns both versions share are copied: a run of a newer release must not fail on an older
    database's bookkeeping, and history is never a reason to fail a load."""
    if previous is None:
        return
    con.execute("ATTACH ? AS previous (READ_ONLY)", [str(previous)])
    try:
        for table in HISTORY_TABLES:
            shared = [row[0] for row in con.execute(
                """SELECT n.column_name FROM duckdb_columns() n JOIN duckdb_columns() o USING (column_name)
                   WHERE n.database_name = current_database() AND n.table_name = $1
                     AND o.database_name = 'previous' AND o.table_name = $1
                   ORDER BY n.column_index""", [table]).fetchall()]
            if shared:
                columns = ", ".join(f'"{name}"' for name in shared)
                con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM previous.{table}")
    finally:
        con.execute("DETACH previous")


def _record_lost_runs(con: duckdb.DuckDBPyConnection, unreadable: list[tuple[Path, str]]) -> None:
    """A run's own records live in the version it built: when that file cannot be read they are
    gone, and the history would skip the run as if it never happened. One row per such version
    keeps the run in the history, saying what became of it (its file is pruned at publishing)."""
    for version, problem in unreadable:
        began = store.version_stamp(version)
        con.execute(
            """INSERT INTO etl_runs (run_id, started_at, finished_at, source_file, entity, bytes, rows_read,
                                     rows_loaded, rows_duplicate, rows_rejected, values_cleared, rows_merged,
                                     seconds, failure)
               VALUES (?, ?, ?, ?, 'database', 0, 0, 0, 0, 0, 0, 0, 0, ?)""",
            [f"unreadable {version.name}", began, began, version.name,
             f"the database this run published cannot be read ({problem}); its accounting was in it and is lost, "
             "and the run after it removed the file"])


def newest_readable_version(db_path: Path) -> tuple[Path | None, list[tuple[Path, str]]]:
    """The version a run carries history and kept tables from: the published one, or when that
    cannot be read (a truncated or corrupt file), the newest earlier version that can; with the
    versions passed over and why. A broken file must not block every later load."""
    current = store.current_version(db_path)
    candidates = [current] if current else []
    candidates += [version for version in reversed(store.all_versions(db_path)) if version != current]
    passed_over = []
    for version in candidates:
        problem = _why_unreadable(version)
        if problem is None:
            return version, passed_over
        passed_over.append((version, problem))
    return None, passed_over


def _why_unreadable(version: Path) -> str | None:
    """None when the version opens, its history tables read whole and every other table is
    listed with its row count (what a run reads from it); else DuckDB's first line on why."""
    try:
        with duckdb.connect() as con:
            con.execute("ATTACH ? AS version (READ_ONLY)", [str(version)])
            tables = [row[0] for row in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'version'").fetchall()]
            for table in tables:
                read = "*" if table in HISTORY_TABLES else "count(*)"
                con.execute(f'SELECT {read} FROM version."{table}"').fetchall()
    except duckdb.Error as error:
        return str(error).splitlines()[0]
    return None


def _warn_about_unreadable_versions(db_path: Path, progress: Progress
                                    ) -> tuple[Path | None, list[tuple[Path, str]]]:
    """The newest readable version and the versions passed over (and why), saying in one line which
    cannot be read and where history comes from instead."""
    readable, passed_over = newest_readable_version(db_path)
    if not passed_over:
        return readable, []
    names = ", ".join(version.name for version, _ in passed_over)
    carried = (f"history and kept tables come from {readable.name}" if readable
               else "no earlier version can be read, so the run history starts again here")
    progress(f"warning: {names} cannot be read ({passed_over[0][1]}); {carried}")
    return readable, passed_over


@dataclass(frozen=True)
class FileFacts:
    """What one read of a whole raw file tells, beside the load's own read of it."""

    checksum: str
    lines: int  # as a text editor counts them: the quarantine's line numbers refer to these


def _file_facts(path: Path) -> FileFacts:
    """BLAKE3 of the file (a cryptographic checksum at about twice SHA-256's speed, which
    matters when it runs beside the load on a 2-core machine) and its line count, from the
    same chunks: counting them in the load's thread cost 1.3-3 s a GB on a busy host."""
    digest = blake3.blake3(max_threads=1)
    lines, last = 0, b""
    with open(path, "rb") as handle:
        while chunk := handle.read(8 * 1024 * 1024):
            digest.update(chunk)
            lines, last = lines + chunk.count(b"\n"), chunk[-1:]
    return FileFacts("blake3:" + digest.hexdigest(), lines + (1 if last not in (b"", b"\n") else 0))


class _exclusive_run:
    """One ETL at a time per database path; a second one fails at once with a clear message."""

    def __init__(self, db_path: Path) -> None:
        self.lock_path = db_path.with_name(db_path.name + ".etl.lock")

    def __enter__(self) -> None:
        try:
            self.handle = open(private_file(self.lock_path))  # closed in __exit__
        except OSError as error:
            raise LoadFailed(f"cannot write in {self.lock_path.parent}: {error.strerror}") from error
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            self.handle.close()
            raise LoadFailed(f"another ETL run is writing {self.lock_path.parent}") from error

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def _remove_unfinished_builds(db_path: Path) -> None:
    """Files left by a run that was killed; safe to remove because we hold the run lock."""
    shutil.rmtree(_workspace(db_path), ignore_errors=True)
    stem = db_path.with_suffix("").name + store.VERSION_INFIX
    for leftover in db_path.parent.glob(f"{stem}*.building{db_path.suffix}*"):  # built beside, by earlier releases
        leftover.unlink(missing_ok=True)
