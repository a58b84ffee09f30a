"""`python -m bench.desk STORE_DIR [SESSIONS] [SAVES]`: agent sessions saving wrap-ups at once.

Each session is a process of its own (as the app's sessions write from separate threads and,
behind a load balancer, separate processes), saving a call log with a follow-up task again and
again into one desk store; prints the save latencies and whether every record arrived, as JSON."""
from __future__ import annotations

import json
import multiprocessing
import sqlite3
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from bench.timing import millisecond_stats
from crm360.desk import DeskStore, FollowUp


def _session(args: tuple[Path, int, int]) -> list[float]:
    path, session, saves = args
    store = DeskStore(path)
    timings = []
    for save in range(saves):
        now = datetime.now()
        started = time.perf_counter()
        store.log_call(1_000_000 + session * 1_000 + save, f"agent{session}", "billing", "follow_up_needed",
                       f"session {session} save {save}: fatura itirazı", now=now,
                       follow_up=FollowUp(now + timedelta(days=1), f"agent{session}", "geri ara"))
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def run(folder: Path, sessions: int = 20, saves: int = 50) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "desk-bench.sqlite"
    for stale in folder.glob("desk-bench.sqlite*"):
        stale.unlink()
    DeskStore(path)
    with multiprocessing.get_context("spawn").Pool(sessions) as pool:
        pool.map(_session, [(path, 0, 1)] * sessions)  # each process imports and opens the store first
        for stale in folder.glob("desk-bench.sqlite*"):
            stale.unlink()
        DeskStore(path)
        started = time.perf_counter()
        timings = [t for session in pool.map(_session, [(path, s, saves) for s in range(sessions)]) for t in session]
        seconds = time.perf_counter() - started
    with sqlite3.connect(path) as con:
        calls, tasks, changes = (con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                                 for table in ("calls", "tasks", "changes"))
    expected = sessions * saves
    return {"sessions": sessions, "saves": expected, "seconds": seconds, **millisecond_stats(timings),
            "calls": calls, "tasks": tasks, "changes": changes,
            "lost": (expected - calls) + (expected - tasks) + (2 * expected - changes)}


if __name__ == "__main__":
    arguments = sys.argv[1:]
    print(json.dumps(run(Path(arguments[0]), *(int(a) for a in arguments[1:]))))
