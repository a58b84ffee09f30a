"""Identity: one customer, however many systems know them.

Two steps, both deterministic (the same files give the same customers, numbers and reasons):

1. Customer records that are one person are merged (`merge_customer_records`), right after the
   customer file loads: records with the same e-mail *and* phone (one person registered twice),
   and pairs a person confirmed on the data-health page. The lowest customer number survives;
   `customer_merges` records every merged number, the survivor and why, and the facts of a
   merged number are moved to the survivor when they load, so the whole history follows.
   A shared phone or e-mail alone is not enough: families share a phone, namesakes an address
   pattern. Such pairs go to the review list (`identity_review`, a mart) for a person.
2. Rows of sources without our customer numbers (a helpdesk, a web shop) are linked to
   customers (`link_source_records`): each distinct (external id, e-mail, phone) of a source is
   a record; it is linked by the external id when that is a customer number, else by an e-mail
   only one customer has, else by a phone only one customer has. Records that share an e-mail
   or phone with each other are one person too, so such a group follows any of its linked
   records. A group linked to no customer becomes a new customer (no consent: nobody agreed to
   marketing by buying once). `identity_links` records each record's customer and why.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from etl import record_key
from etl.extract import Readable, identity_relation

# What each link rule means is in crm360/glossary.py (IDENTITY_RULES), shown on the data-health page.

# The event moment of each entity, for a new customer's sign-up day (their first event).
EVENT_MOMENT = {"purchases": "ordered_at", "interactions": "started_at", "complaints": "opened_at",
                "survey_responses": "responded_at"}

MERGES_DDL = """
CREATE OR REPLACE TABLE customer_merges (
    merged_id BIGINT, survivor_id BIGINT, rule VARCHAR, evidence VARCHAR, decided_by VARCHAR,
    email VARCHAR, phone VARCHAR)
"""
LINKS_DDL = """
CREATE OR REPLACE TABLE identity_links (
    source_file VARCHAR, record_key VARCHAR, external_id VARCHAR, email VARCHAR, phone VARCHAR,
    full_name VARCHAR, customer_id BIGINT, rule VARCHAR, rows BIGINT)
"""
DECISIONS_DDL = """
CREATE OR REPLACE TABLE identity_decisions (
    customer_a BIGINT, customer_b BIGINT, same_person BOOLEAN, decided_by VARCHAR, decided_at TIMESTAMP,
    note VARCHAR)
"""


@dataclass(frozen=True)
class LinkCounts:
    records: int      # distinct (external id, e-mail, phone) in the source
    linked: int       # records linked to a customer already known
    new_customers: int
    unlinked: int     # records that could not be told apart from several customers


def create_tables(con: duckdb.DuckDBPyConnection, decisions: list[tuple]) -> None:
    """The identity tables every load has (empty when nothing was merged or linked), and the
    review decisions in force for this run."""
    con.execute(MERGES_DDL)
    con.execute(LINKS_DDL)
    con.execute(DECISIONS_DDL)
    if decisions:
        con.executemany("INSERT INTO identity_decisions VALUES (?, ?, ?, ?, ?, ?)", decisions)


def merge_customer_records(con: duckdb.DuckDBPyConnection) -> int:
    """Merge customer records that are one person (same e-mail and phone, or confirmed by a
    person); returns how many records were merged into another."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _merge_edges AS
        SELECT customer_id AS a, min(customer_id) OVER (PARTITION BY email, phone) AS b,
               'same e-mail and phone' AS rule, email || ', ' || phone AS evidence, NULL::VARCHAR AS decided_by
        FROM customers WHERE email IS NOT NULL AND phone IS NOT NULL
        UNION ALL
        SELECT d.customer_a, d.customer_b, 'confirmed the same person', coalesce(d.note, ''), d.decided_by
        FROM identity_decisions d
        WHERE d.same_person AND d.customer_a IN (SELECT customer_id FROM customers)
          AND d.customer_b IN (SELECT customer_id FROM customers)
    """)
    con.execute("DELETE FROM _merge_edges WHERE a = b")
    if not con.execute("SELECT count(*) FROM _merge_edges").fetchone()[0]:
        return 0
    _components(con, "_merge_edges", "_merge_groups")
    con.execute("""
        INSERT INTO customer_merges
        SELECT g.node, g.label,
               string_agg(DISTINCT e.rule, '; ' ORDER BY e.rule),
               string_agg(DISTINCT e.evidence, '; ' ORDER BY e.evidence),
               string_agg(DISTINCT e.decided_by, ', ' ORDER BY e.decided_by),
               any_value(c.email), any_value(c.phone)
        FROM _merge_groups g JOIN _merge_edges e ON g.node IN (e.a, e.b) JOIN customers c ON c.customer_id = g.node
        WHERE g.node <> g.label
        GROUP BY g.node, g.label ORDER BY g.node
    """)
    _fold_merged_into_survivors(con)
    return con.execute("SELECT count(*) FROM customer_merges").fetchone()[0]


def _fold_merged_into_survivors(con: duckdb.DuckDBPyConnection) -> None:
    """The survivor keeps its own values and takes a merged record's where it has none. Consent
    is the strictest of the records (a "no" in any system stands until the person says yes
    everywhere), do-not-contact the broadest."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _merged_people AS
        SELECT coalesce(m.survivor_id, c.customer_id) AS person, c.*
        FROM customers c LEFT JOIN customer_merges m ON m.merged_id = c.customer_id
        WHERE c.customer_id IN (SELECT survivor_id FROM customer_merges)
           OR c.customer_id IN (SELECT merged_id FROM customer_merges)
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _survivors AS
        SELECT person AS customer_id,
               arg_min(full_name, customer_id) AS full_name, arg_min(name_key, customer_id) AS name_key,
               arg_min(email, customer_id) FILTER (WHERE email IS NOT NULL) AS email,
               arg_min(phone, customer_id) FILTER (WHERE phone IS NOT NULL) AS phone,
               arg_min(city, customer_id) FILTER (WHERE city IS NOT NULL) AS city,
               arg_min(birth_date, customer_id) FILTER (WHERE birth_date IS NOT NULL) AS birth_date,
               min(signup_date) AS signup_date,
               arg_min(preferred_channel, customer_id) FILTER (WHERE preferred_channel IS NOT NULL)
                   AS preferred_channel,
               arg_min(language, customer_id) FILTER (WHERE language IS NOT NULL) AS language,
               bool_and(consent_email) AS consent_email, max(consent_email_at) AS consent_email_at,
               bool_and(consent_sms) AS consent_sms, max(consent_sms_at) AS consent_sms_at,
               bool_and(consent_phone) AS consent_phone, max(consent_phone_at) AS consent_phone_at,
               bool_or(do_not_contact) AS do_not_contact, max(do_not_contact_at) AS do_not_contact_at
        FROM _merged_people GROUP BY person
    """)
    con.execute("DELETE FROM customers WHERE customer_id IN (SELECT customer_id FROM _merged_people)")
    con.execute("INSERT INTO customers BY NAME SELECT * FROM _survivors")
    for table in ("_merged_people", "_survivors", "_merge_edges", "_merge_groups"):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _components(con: duckdb.DuckDBPyConnection, edges: str, result: str) -> None:
    """Connected components of an edge list (a, b): every node labelled with the smallest node
    of its component, by repeated minimum over neighbours until nothing changes (a few rounds:
    components of people are small)."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _pairs AS
        SELECT a AS node, b AS other FROM {edges} UNION SELECT b, a FROM {edges}
    """)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {result} AS SELECT DISTINCT node, node AS label FROM _pairs")
    while True:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _next AS
            SELECT r.node, least(r.label, min(o.label)) AS label
            FROM {result} r JOIN _pairs p ON p.node = r.node JOIN {result} o ON o.node = p.other
            GROUP BY r.node, r.label
        """)
        changed = con.execute(f"SELECT count(*) FROM _next n JOIN {result} r USING (node) "
                              "WHERE n.label <> r.label").fetchone()[0]
        con.execute(f"CREATE OR REPLACE TEMP TABLE {result} AS SELECT * FROM _next")
        if not changed:
            break
    con.execute("DROP TABLE IF EXISTS _pairs")
    con.execute("DROP TABLE IF EXISTS _next")


def collect_source_records(con: duckdb.DuckDBPyConnection, found: Readable, order: int) -> None:
    """Add a source's distinct records (external id, e-mail, phone, and a name and city to
    make a new customer from) to `_identity_records`."""
    con.execute("""
        CREATE TEMP TABLE IF NOT EXISTS _identity_records (
            source_order INTEGER, source_file VARCHAR, record_key VARCHAR, external_id VARCHAR,
            email VARCHAR, phone VARCHAR, full_name VARCHAR, city VARCHAR, first_seen TIMESTAMP,
            first_position BIGINT, rows BIGINT)
    """)
    relation = identity_relation(con, found, EVENT_MOMENT.get(found.source.entity, ""))
    fields = {name: record_key.normalised(name) for name in ("external_id", "email", "phone", "full_name", "city")}
    con.execute(f"""
        INSERT INTO _identity_records
        SELECT ?, ?, _record_key, any_value(external_id), any_value(email), any_value(phone),
               arg_min(full_name, _position) FILTER (WHERE full_name IS NOT NULL),
               arg_min(city, _position) FILTER (WHERE city IS NOT NULL),
               min(_moment), min(_position), count(*)
        FROM (SELECT _position, _moment, {record_key.key_sql()} AS _record_key,
                     {', '.join(f'{sql} AS {name}' for name, sql in fields.items())}
              FROM {relation})
        WHERE _record_key IS NOT NULL
        GROUP BY _record_key
    """, [order, found.source.file])


def link_source_records(con: duckdb.DuckDBPyConnection) -> dict[str, LinkCounts]:
    """Link every collected record to a customer (or make one); fills `identity_links` and adds
    new customers to `customers`. Returns the counts per source file."""
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = '_identity_records'").fetchone()[0] == 0:
        return {}
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _records AS
        SELECT row_number() OVER (ORDER BY source_order, first_position) AS record_id, *
        FROM _identity_records
    """)
    # Direct links: a customer number, else an e-mail one customer has, else a phone one has (the
    # contact details of records merged into a customer are still theirs).
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _direct AS
        WITH known AS (SELECT customer_id, email, phone FROM customers
                       UNION ALL SELECT survivor_id, email, phone FROM customer_merges),
             by_email AS (SELECT email, min(customer_id) AS customer_id, count(DISTINCT customer_id) AS holders
                          FROM known WHERE email IS NOT NULL GROUP BY email),
             by_phone AS (SELECT phone, min(customer_id) AS customer_id, count(DISTINCT customer_id) AS holders
                          FROM known WHERE phone IS NOT NULL GROUP BY phone),
             numbers AS (SELECT customer_id AS number, customer_id FROM customers
                         UNION ALL SELECT merged_id, survivor_id FROM customer_merges)
        SELECT r.record_id,
               coalesce(n.customer_id, e.customer_id, p.customer_id) AS customer_id,
               CASE WHEN n.customer_id IS NOT NULL THEN 'external_id' WHEN e.customer_id IS NOT NULL THEN 'email'
                    WHEN p.customer_id IS NOT NULL THEN 'phone' END AS rule,
               -- an e-mail or phone several customers have tells nothing apart, but says this is
               -- not a new person either
               coalesce(ae.holders, 0) > 1 OR coalesce(ap.holders, 0) > 1 AS ambiguous
        FROM _records r
        LEFT JOIN numbers n ON n.number = TRY_CAST(r.external_id AS BIGINT)
        LEFT JOIN by_email e ON e.email = r.email AND e.holders = 1
        LEFT JOIN by_phone p ON p.phone = r.phone AND p.holders = 1
        LEFT JOIN by_email ae ON ae.email = r.email
        LEFT JOIN by_phone ap ON ap.phone = r.phone
    """)
    # Records sharing an e-mail or phone are one person: group them.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _record_edges AS
        SELECT record_id AS a, min(record_id) OVER (PARTITION BY email) AS b FROM _records WHERE email IS NOT NULL
        UNION ALL
        SELECT record_id, min(record_id) OVER (PARTITION BY phone) FROM _records WHERE phone IS NOT NULL
        UNION ALL
        SELECT record_id, record_id FROM _records
    """)
    _components(con, "_record_edges", "_record_groups")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _group_customers AS
        SELECT g.label, count(DISTINCT d.customer_id) AS customers, min(d.customer_id) AS customer_id,
               bool_or(d.ambiguous) AS ambiguous
        FROM _record_groups g JOIN _direct d ON d.record_id = g.node
        GROUP BY g.label
    """)
    start = con.execute("SELECT coalesce(max(customer_id), 0) FROM (SELECT customer_id FROM customers "
                        "UNION ALL SELECT merged_id FROM customer_merges)").fetchone()[0]
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _new_people AS
        SELECT label, ? + row_number() OVER (ORDER BY label) AS customer_id
        FROM _group_customers WHERE customers = 0 AND NOT ambiguous
    """, [start])
    con.execute("""
        INSERT INTO identity_links
        SELECT r.source_file, r.record_key, r.external_id, r.email, r.phone, r.full_name,
               CASE WHEN d.customer_id IS NOT NULL THEN d.customer_id
                    WHEN gc.customers = 1 THEN gc.customer_id
                    ELSE np.customer_id END,
               CASE WHEN d.customer_id IS NOT NULL THEN d.rule WHEN gc.customers = 1 THEN 'group'
                    WHEN np.customer_id IS NOT NULL THEN 'new' ELSE 'ambiguous' END,
               r.rows
        FROM _records r JOIN _direct d USING (record_id)
        JOIN _record_groups g ON g.node = r.record_id
        JOIN _group_customers gc ON gc.label = g.label
        LEFT JOIN _new_people np ON np.label = g.label
        ORDER BY r.record_id
    """)
    _insert_new_customers(con)
    # A new customer counts in the file of the group's first record; the group's other records,
    # in any file, are merged into them.
    rows = con.execute("""
        SELECT r.source_file, count(*), count(*) FILTER (WHERE l.rule NOT IN ('new', 'ambiguous')),
               count(np.label), count(*) FILTER (WHERE l.rule = 'ambiguous')
        FROM _records r JOIN identity_links l USING (source_file, record_key)
        LEFT JOIN _new_people np ON np.label = r.record_id
        GROUP BY r.source_file ORDER BY min(r.source_order)
    """).fetchall()
    counts = {file: LinkCounts(*figures) for file, *figures in rows}
    for table in ("_records", "_direct", "_record_edges", "_record_groups", "_group_customers", "_new_people",
                  "_identity_records"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return counts


def _insert_new_customers(con: duckdb.DuckDBPyConnection) -> None:
    """A customer for each group of records no customer matched: named as the first record
    names them, reachable as they gave, signed up on their first event, and no consent."""
    con.execute("""
        INSERT INTO customers BY NAME
        SELECT np.customer_id,
               coalesce(arg_min(r.full_name, r.record_id) FILTER (WHERE r.full_name IS NOT NULL),
                        'Customer ' || np.customer_id) AS full_name,
               arg_min(r.email, r.record_id) FILTER (WHERE r.email IS NOT NULL) AS email,
               arg_min(r.phone, r.record_id) FILTER (WHERE r.phone IS NOT NULL) AS phone,
               arg_min(r.city, r.record_id) FILTER (WHERE r.city IS NOT NULL) AS city,
               min(r.first_seen)::DATE AS signup_date,
               false AS consent_email, false AS consent_sms, false AS consent_phone, false AS do_not_contact
        FROM _new_people np JOIN _record_groups g ON g.label = np.label JOIN _records r ON r.record_id = g.node
        GROUP BY np.customer_id ORDER BY np.customer_id
    """)
    con.execute("UPDATE customers SET name_key = fold_text(full_name) WHERE name_key IS NULL")


def read_decisions(path: Path) -> list[tuple]:
    """Review decisions from the app's store (crm360/identity_review.py), read-only; none when
    nobody has decided anything yet."""
    from crm360.identity_review import DecisionStore  # the store is the app's; the ETL only reads it
    if not path.exists():
        return []
    return [(d.customer_a, d.customer_b, d.same_person, d.decided_by, d.decided_at, d.note)
            for d in DecisionStore(path).decisions()]


def move_merged_facts(con: duckdb.DuckDBPyConnection, staged: str) -> None:
    """Rows of a merged customer number belong to the survivor (in the staged table, before
    the core table is written and clustered)."""
    if con.execute("SELECT count(*) FROM customer_merges").fetchone()[0]:
        con.execute(f"""UPDATE {staged} SET customer_id = m.survivor_id FROM customer_merges m
                        WHERE {staged}.customer_id = m.merged_id""")
