"""`python -m etl --raw DIR --db PATH [--mapping FILE]`: load the raw exports into a new database
and publish it. Which file is which comes from a mapping (etl/mapping.py): FILE, else
every *.toml in DIR, else the seed's own (etl/mappings/seed.toml). Several --mapping files combine.

Exit status: 0 published; 3 published, but some files failed (each is named with why on stderr;
their tables keep the previous load); 1 nothing published (bad mapping, no customers at all, a
--db that cannot be published to, a full disk, a read-only folder, a corrupt store: one line says
what and where; the previously published database keeps serving); 2 bad arguments.
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import duckdb

from crm360 import cli, config
from etl.pipeline import LoadFailed, LoadParams, RunReport, run_etl


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(prog="python -m etl", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw", type=Path, default=config.DEFAULT_RAW_DIR,
                        help="directory with the exported files (default data/raw)")
    parser.add_argument("--db", type=Path, default=config.db_path(),
                        help="published database path (default $CRM_DB or data/crm.duckdb)")
    parser.add_argument("--max-rejected", type=_share, default=config.MAX_REJECTED_SHARE,
                        help="largest share of rejected rows a file may have (default 0.05)")
    parser.add_argument("--mapping", type=Path, action="append",
                        help="a mapping file; repeat it to combine several (a CRM's, a helpdesk's, a shop's). "
                             "Default: every *.toml in DIR, else the seed's exports")
    args = parser.parse_args(argv)
    try:
        cli.existing_folder(args.raw, "raw directory", "`python -m seed --out DIR` writes one")
    except cli.CommandError as error:
        return cli.fail("etl", error)
    started = time.perf_counter()
    params = LoadParams(raw_dir=args.raw, db_path=args.db, max_rejected_share=args.max_rejected,
                        mapping=args.mapping)
    try:
        report = run_etl(params, progress=_progress(started))
    except LoadFailed as error:
        return cli.fail("etl", f"FAILED, nothing published: {error}")
    except (OSError, duckdb.Error, sqlite3.Error) as error:  # the disk, not the data: say what and where
        return cli.fail("etl", f"FAILED, nothing published ({args.db} unchanged): {_what_and_where(error)}")
    _say(summary(report, time.perf_counter() - started), sys.stdout)
    for failure in report.failures:
        _say(f"etl: {cli.one_line(failure)}", sys.stderr)
    return 3 if report.failures else 0


def _say(text: str, stream: TextIO) -> None:
    """Every line the ETL prints goes out here, with control characters escaped: file names,
    headers and values come from files anyone could have dropped into the raw folder."""
    print("\n".join(cli.printable(line) for line in text.split("\n")), file=stream, flush=True)


def _share(text: str) -> float:
    try:
        share = float(text)
    except ValueError:
        share = -1.0
    if not 0 <= share <= 1:
        raise argparse.ArgumentTypeError(f"“{text}” is not a share between 0 and 1 (0.05 is 5%)")
    return share


def _what_and_where(error: Exception) -> str:
    """One line: the operating system's reason and the file (OSError), or the database engine's
    first line, which names the file it was writing."""
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _progress(started: float) -> Callable[[str], None]:
    def show(message: str) -> None:
        _say(f"[{time.perf_counter() - started:6.1f}s] {cli.one_line(message)}", sys.stderr)
    return show


def summary(report: RunReport, seconds: float) -> str:
    """The accounting table; file names escaped before the columns are measured, so they line up
    as printed."""
    names = [cli.printable(f.source.file) for f in report.files]
    width = max([26, *(len(name) + 2 for name in names)])
    header = f"{'file':<{width}}{'read':>13}{'loaded':>13}{'merged':>9}{'duplicates':>12}{'rejected':>10}" \
             f"{'cleared':>9}{'seconds':>9}"
    lines = [header, "-" * len(header)]
    for f, name in zip(report.files, names, strict=True):
        c = f.counts
        lines.append(f"{name:<{width}}{c.rows_read:>13,}{c.rows_loaded:>13,}{c.rows_merged:>9,}"
                     f"{c.rows_duplicate:>12,}{c.rows_rejected:>10,}{c.values_cleared:>9,}"
                     f"{f.seconds:>9.1f}")
    for f, name in zip(report.files, names, strict=True):
        if f.failure:
            lines.append(f"{name:<{width}} FAILED: {cli.one_line(f.failure)}")
    ok = all(f.counts.reconciles for f in report.files)
    lines.append(f"read = loaded + merged + duplicates + rejected for every file: {'yes' if ok else 'NO'}")
    lines.append(f"mapping: {', '.join(str(path) for path in report.mapping)}")
    lines.append(f"load {report.stage_seconds.get('load', 0):.1f} s, marts "
                 f"{report.stage_seconds.get('marts', 0):.1f} s, total {seconds:.1f} s; "
                 f"published {report.published}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
