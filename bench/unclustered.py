"""`python -m bench.unclustered SRC DST`: the baseline for the lookup bench, a copy of the published
database whose fact tables are in scattered order (one customer's rows spread over the file)
but with the same marts and indexes; the same lookups run against both."""
from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from crm360 import store
from etl.transform import render_sql

SCATTERED = ("interactions", "purchases", "complaints", "survey_responses")


def make_copy(source: Path, published: Path) -> None:
    published.parent.mkdir(parents=True, exist_ok=True)
    target = store.version_path(published)
    con = duckdb.connect(str(target))
    try:
        con.execute("SET memory_limit = '7GB'")
        con.execute("SET enable_progress_bar = false")
        con.execute("ATTACH ? AS src (READ_ONLY)", [str(store.current_version(source))])
        tables = [row[0] for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'src'").fetchall()]
        for table in tables:
            order = " ORDER BY hash(rowid)" if table in SCATTERED else ""
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM src.{table}{order}")
        con.execute("DETACH src")
        con.execute(render_sql("marts/lookup_indexes.sql"))
        con.execute("CHECKPOINT")
    finally:
        con.close()
    store.publish(published, target, keep=1)


if __name__ == "__main__":
    make_copy(Path(sys.argv[1]), Path(sys.argv[2]))
