"""The copy-only baseline the ETL's load stage is measured against: DuckDB copying the same
files into tables with no checks, no normalisation, no dedupe, no clustering."""
from __future__ import annotations

import time
from pathlib import Path

import duckdb

from etl.mapping import seed_sources

READERS = {
    "csv": "read_csv('{path}', delim = '{delimiter}', header = true, ignore_errors = true)",
    "parquet": "read_parquet('{path}')",
    "jsonl": "read_json('{path}', format = 'newline_delimited', ignore_errors = true)",
}


def copy_only(raw_dir: Path, db_file: Path, threads: int = 2, memory_limit: str = "5GB") -> dict[str, float]:
    """Copy every raw file into a table of a new database; returns seconds per file."""
    db_file.unlink(missing_ok=True)
    con = duckdb.connect(str(db_file))
    con.execute(f"SET threads = {threads}")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    seconds = {}
    try:
        for source in seed_sources():
            reader = READERS[source.format].format(path=raw_dir / source.file, delimiter=source.delimiter)
            started = time.perf_counter()
            con.execute(f"CREATE TABLE {source.entity} AS SELECT * FROM {reader}")
            seconds[source.file] = time.perf_counter() - started
        con.execute("CHECKPOINT")
    finally:
        con.close()
        db_file.unlink(missing_ok=True)
    return seconds
