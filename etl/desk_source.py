"""The agent desk as one more source of every ETL run.

`export` writes the desk store's rows (crm360/desk.py) to CSV files in the run's own work folder,
read in one transaction, with the change-log cursor they reflect; the desk mapping
(etl/mappings/desk.toml) loads them like any other export, so they are checked, quarantined and
counted in etl_runs. `apply` then joins them to the core tables before the marts are built: desk
calls become contacts, desk complaints complaints (with the desk's answers, resolutions and refunds
applied to loaded ones too), and consent changes override a customer's consent when they are newer
than what the CRM recorded. `desk_intake` keeps the cursor, so the app overlays only what this
version has not read (crm360/desk_view.py, crm360/queries/desk_consent.py).
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from crm360.desk import DeskStore
from etl.mapping import load_mapping
from etl.sources import ENTITY_COLUMNS, Source

DESK_MAPPING = Path(__file__).parent / "mappings" / "desk.toml"
# Desk store table -> the entity (and file) the desk mapping loads it as.
ENTITIES = {"calls": "desk_calls", "complaints": "desk_complaints", "consent_changes": "desk_consent"}


def sources() -> tuple[Source, ...]:
    return load_mapping(DESK_MAPPING)


def export(store: Path, folder: Path) -> int | None:
    """Write the desk's rows into `folder`; the change-log cursor they reflect, or None when there
    is no desk store (no agent has written anything: the desk tables load empty)."""
    if not store.is_file():
        return None
    tables, cursor = DeskStore(store).everything()
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        entity = ENTITIES[name]
        frame.select(ENTITY_COLUMNS[entity]).write_csv(folder / f"{entity}.csv", datetime_format="%Y-%m-%d %H:%M:%S")
    return cursor


def apply(con: duckdb.DuckDBPyConnection, cursor: int | None) -> dict[str, int]:
    """Join the loaded desk rows to the core tables; how many rows each step added or changed."""
    done = {}
    done["calls"] = con.execute("""
        INSERT INTO interactions BY NAME
        SELECT call_id AS interaction_id, customer_id, called_at AS started_at, channel, 'inbound' AS direction,
               reason AS topic, outcome = 'resolved_first_contact' AS resolved_on_first_contact, note AS notes
        FROM desk_calls WHERE call_id NOT IN (SELECT interaction_id FROM interactions)""").fetchall()[0][0]
    done["complaints"] = con.execute("""
        INSERT INTO complaints BY NAME
        SELECT complaint_id, customer_id, opened_at, channel, category, severity, product_id, first_response_at,
               resolved_at, CASE WHEN resolved_at IS NOT NULL THEN 'resolved'
                                 WHEN first_response_at IS NOT NULL THEN 'in_progress' ELSE 'open' END AS status,
               resolution, refund_try AS refund_amount_try, description
        FROM desk_complaints
        WHERE origin = 'desk' AND complaint_id NOT IN (SELECT complaint_id FROM complaints)""").fetchall()[0][0]
    # An agent's answer does not move the first answer the complaints system recorded.
    done["complaint updates"] = con.execute("""
        UPDATE complaints c SET
            first_response_at = coalesce(c.first_response_at, d.first_response_at),
            resolved_at = coalesce(d.resolved_at, c.resolved_at),
            resolution = coalesce(d.resolution, c.resolution),
            refund_amount_try = coalesce(d.refund_try, c.refund_amount_try),
            status = CASE WHEN coalesce(d.resolved_at, c.resolved_at) IS NOT NULL THEN 'resolved'
                          WHEN coalesce(c.first_response_at, d.first_response_at) IS NOT NULL THEN 'in_progress'
                          ELSE c.status END
        FROM desk_complaints d
        WHERE d.origin = 'loaded' AND d.complaint_id = c.complaint_id AND d.customer_id = c.customer_id
        """).fetchall()[0][0]
    for channel in ("email", "sms", "phone"):
        done[f"consent {channel}"] = con.execute(f"""
            UPDATE customers c SET consent_{channel} = d.given, consent_{channel}_at = d.recorded_at::DATE
            FROM (SELECT customer_id, arg_max(given, change_id) AS given, max(recorded_at) AS recorded_at
                  FROM desk_consent WHERE channel = '{channel}' GROUP BY customer_id) d
            WHERE d.customer_id = c.customer_id
              AND (c.consent_{channel}_at IS NULL OR d.recorded_at > c.consent_{channel}_at)""").fetchall()[0][0]
    done["do not contact"] = con.execute("""
        UPDATE customers c SET do_not_contact = true, do_not_contact_at = d.recorded_at::DATE
        FROM (SELECT customer_id, min(recorded_at) AS recorded_at FROM desk_consent WHERE do_not_contact
              GROUP BY customer_id) d
        WHERE d.customer_id = c.customer_id AND NOT coalesce(c.do_not_contact, false)""").fetchall()[0][0]
    con.execute("CREATE OR REPLACE TABLE desk_intake AS SELECT ?::BIGINT AS loaded_through",
                [cursor or 0])
    return done

