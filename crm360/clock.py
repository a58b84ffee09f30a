"""What "now" means on a page.

In the default "data" mode, now is the newest event in the loaded data (`dataset_info.data_as_of`),
so complaint ages and 24-hour clocks in a demo read the same a week after it was seeded, and a
snapshot loaded last night is judged as of last night rather than as if nobody had worked since.
Set `CRM_CLOCK=wall` for a production feed loaded through the day: now is then the real clock.
Every page prints which "now" it used.
"""
from __future__ import annotations

from datetime import datetime

from crm360 import config
from crm360.record import LOCAL_ZONE
from crm360.store import Database


def data_as_of(db: Database) -> datetime | None:
    row = db.row("SELECT data_as_of FROM dataset_info")
    return row[0] if row else None


def wall() -> datetime:
    """The real clock in Istanbul, without a zone. The data's times are Istanbul wall-clock times, so
    the real clock is read there too, whatever zone the server runs in (a UTC server would otherwise
    be three hours behind the data)."""
    return datetime.now(LOCAL_ZONE).replace(tzinfo=None, microsecond=0)


def now(db: Database, mode: str | None = None) -> datetime:
    """The page's now. In "data" mode, the newest event on record: in the loaded data, or written by
    an agent since (the desk stamps the real time on what agents write, which the KPIs, the audit
    trail and the systems of record need). So a complaint opened on a call is 0 hours old on the
    page that opened it, never "in the future" of a snapshot loaded last night."""
    from crm360 import desk  # here: the desk stamps its writes with this module's wall()

    mode = mode or config.CLOCK_MODE
    wall_now = wall()
    if mode == "wall":
        return wall_now
    loaded = data_as_of(db)
    written = desk.latest_write(desk.store_path_beside(db.published))
    moments = [moment for moment in (loaded, written) if moment is not None]
    return max(moments) if moments else wall_now
