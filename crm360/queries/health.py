"""Queries behind the data-health page: what was loaded, when, and what was turned away."""
from __future__ import annotations

import polars as pl

from crm360.store import Database


def dataset_info(db: Database) -> dict | None:
    frame = db.frame("SELECT * FROM dataset_info")
    return frame.row(0, named=True) if frame.height else None


def recent_runs(db: Database, limit: int = 20) -> pl.DataFrame:
    """One row per run: when, how long, and the row accounting summed over its files."""
    return db.frame(
        """WITH files AS (
               SELECT run_id, min(started_at) AS started_at, max(finished_at) AS finished_at,
                      count(*) AS files, sum(rows_read) AS rows_read, sum(rows_loaded) AS rows_loaded,
                      sum(coalesce(rows_merged, 0)) AS rows_merged,
                      sum(rows_duplicate) AS rows_duplicate, sum(rows_rejected) AS rows_rejected,
                      sum(values_cleared) AS values_cleared
               FROM etl_runs GROUP BY run_id
           ), stages AS (
               SELECT run_id, any_value(seconds) FILTER (WHERE stage = 'load') AS load_seconds,
                      any_value(seconds) FILTER (WHERE stage = 'marts') AS marts_seconds
               FROM etl_run_stages GROUP BY run_id
           )
           SELECT * FROM files LEFT JOIN stages USING (run_id)
           ORDER BY started_at DESC LIMIT ?""", [limit])


# Columns later releases added to etl_runs: a database loaded by an earlier release lacks them
# until the next load, and the page must still open.
_LATER_RUN_COLUMNS = ("read_notes", "failure")


def run_files(db: Database, run_id: str) -> pl.DataFrame:
    with db.snapshot() as snap:
        present = {row[0] for row in snap.cursor.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'etl_runs'").fetchall()}
        later = ", ".join(name if name in present else f"NULL::VARCHAR AS {name}" for name in _LATER_RUN_COLUMNS)
        merged = "coalesce(rows_merged, 0)" if "rows_merged" in present else "0"
        return snap.frame(
            f"""SELECT source_file, entity, rows_read, rows_loaded, {merged} AS rows_merged, rows_duplicate,
                       rows_rejected, values_cleared,
                       rows_read = rows_loaded + {merged} + rows_duplicate + rows_rejected AS reconciles,
                       round(seconds, 2) AS seconds, bytes, checksum, {later}
                FROM etl_runs WHERE run_id = ? ORDER BY source_file, entity""", [run_id])


def quarantine_summary(db: Database) -> pl.DataFrame:
    return db.frame(
            """SELECT source_file, field, reason, action, count(*) AS rows
               FROM quarantine GROUP BY ALL ORDER BY rows DESC""")


def quarantine_rows(db: Database, source_file: str | None = None, limit: int | None = 200) -> pl.DataFrame:
    """The quarantined rows and values, by file and line (all of them with limit=None)."""
    return db.arrow_frame(
            """SELECT source_file, line_number, field, reason, action, raw_value
               FROM quarantine WHERE ? IS NULL OR source_file = ?
               ORDER BY source_file, line_number LIMIT ?""",
            [source_file, source_file, limit])


def identity_summary(db: Database) -> pl.DataFrame:
    """How this load told customers apart: records merged into another customer record, and rows
    of other systems linked to customers, by rule."""
    return db.frame(
        """SELECT 'customer file' AS source, rule, count(*) AS records, NULL::BIGINT AS rows
           FROM customer_merges GROUP BY rule
           UNION ALL
           SELECT source_file, rule, count(*), sum(rows) FROM identity_links GROUP BY source_file, rule
           ORDER BY source, records DESC""")


def merged_records(db: Database, limit: int = 200) -> pl.DataFrame:
    """Customer numbers merged into another, with the survivor and why."""
    return db.frame(
        """SELECT m.merged_id, m.survivor_id, s.full_name AS survivor_name, m.rule, m.evidence, m.decided_by
           FROM customer_merges m LEFT JOIN customers s ON s.customer_id = m.survivor_id
           ORDER BY m.merged_id LIMIT ?""", [limit])


_PAIR_SIDE = ("full_name", "city", "phone", "email", "signup_date", "orders", "last_contact_at")


def review_pairs(db: Database, decided: set[tuple[int, int]] = frozenset(), limit: int = 200
                 ) -> tuple[pl.DataFrame, int]:
    """Possible duplicates still to judge (the load's list less the pairs decided since), each
    pair with both records side by side; and how many there are in all."""
    sides = ", ".join(f"a.{c} AS {c}_a, b.{c} AS {c}_b" for c in _PAIR_SIDE)
    with db.snapshot() as snap:
        decided_frame = pl.DataFrame(sorted(decided), schema={"customer_a": pl.Int64, "customer_b": pl.Int64},
                                     orient="row")
        snap.cursor.register("decided_since_load", decided_frame.to_arrow())
        try:
            pending = """FROM identity_review r WHERE NOT EXISTS (
                             SELECT 1 FROM decided_since_load d
                             WHERE d.customer_a = r.customer_a AND d.customer_b = r.customer_b)"""
            total = snap.cursor.execute(f"SELECT count(*) {pending}").fetchone()[0]
            pairs = snap.frame(
                f"""SELECT r.customer_a, r.customer_b, r.reasons, r.evidence, {sides}
                    FROM (SELECT r.* {pending} ORDER BY r.customer_a, r.customer_b LIMIT ?) r
                    JOIN customer_summary a ON a.customer_id = r.customer_a
                    JOIN customer_summary b ON b.customer_id = r.customer_b
                    ORDER BY r.customer_a, r.customer_b""", [limit])
        finally:
            snap.cursor.unregister("decided_since_load")
    return pairs, total
