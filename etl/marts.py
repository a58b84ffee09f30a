"""Marts: business tables built from the core tables, one SQL file each in `sql/marts/`.

The order matters only where one mart reads another (kpi_daily reads customer_summary).
Porting the marts to another engine means porting these files and nothing else.
"""
from __future__ import annotations

import time

import duckdb

from crm360.geography import PROVINCES
from etl.transform import render_sql

MARTS = ("dataset_info", "customer_summary", "kpi_daily", "complaints_daily", "provinces",
         "customer_name_tokens", "lookup_indexes")


def build_marts(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Build every mart; returns seconds per mart."""
    con.execute("SET VARIABLE provinces = ?", [list(PROVINCES)])
    timings = {}
    for mart in MARTS:
        started = time.perf_counter()
        con.execute(render_sql(f"marts/{mart}.sql"))
        timings[mart] = time.perf_counter() - started
    return timings
