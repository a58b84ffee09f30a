"""`python -m bench.mapping_load RAW_DIR WORK_DIR [--foundation COMMIT]`: the ETL's load stage on
the same files three times in one run:

- the foundation's ETL, as it was before mappings (a git worktree at COMMIT, default the last
  commit before them), the baseline issue 7 names;
- today's ETL through the seed mapping (every writing pinned: no detection), with the identity
  step (merging customer records, the review list's inputs);
- the same mapping with encoding, delimiter, dates and decimals left "auto" (detected per file,
  as for a new company's exports).

Prints JSON with the load times and their ratios to the foundation's (issue 7: at most 1.25x).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from crm360 import cli
from crm360.store import current_version
from etl.mapping import SEED_MAPPING
from etl.pipeline import LoadParams, run_etl

ROOT = Path(__file__).resolve().parent.parent
FOUNDATION_COMMIT = "ba757ed"  # the last commit before source mappings (issue 7's first part)


def auto_mapping(target: Path) -> Path:
    """The seed mapping with every pinned writing set to "auto"."""
    text = SEED_MAPPING.read_text(encoding="utf-8")
    text = re.sub(r'^(encoding|dates|decimal|delimiter) = ".*"$', r'\1 = "auto"', text, flags=re.MULTILINE)
    target.write_text(text, encoding="utf-8")
    return target


def foundation_load(raw: Path, work: Path, commit: str) -> dict:
    """The foundation's ETL on the same files, from a worktree of the repository at `commit`."""
    with tempfile.TemporaryDirectory(prefix="foundation-") as scratch:
        tree = Path(scratch) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), commit], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            db = work / "foundation" / "crm.duckdb"
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "etl", "--raw", str(raw), "--db", str(db)], cwd=tree, check=True,
                           capture_output=True, env={**os.environ, "PYTHONPATH": str(tree)})
            total = time.perf_counter() - started
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
    with duckdb.connect(str(current_version(db)), read_only=True) as con:
        load = con.execute("SELECT seconds FROM etl_run_stages WHERE stage = 'load' ORDER BY run_id DESC "
                           "LIMIT 1").fetchone()[0]
    return {"commit": commit, "load_seconds": load, "total_seconds": total}


def run(raw: Path, work: Path, commit: str = FOUNDATION_COMMIT) -> dict:
    cli.existing_folder(raw, "RAW_DIR", "`python -m seed --out DIR` writes one")
    cli.folder(work, "WORK_DIR")
    results = {"foundation": foundation_load(raw, work, commit)}
    for name, mapping in (("pinned", SEED_MAPPING), ("auto", auto_mapping(work / "auto.toml"))):
        started = time.perf_counter()
        report = run_etl(LoadParams(raw_dir=raw, db_path=work / name / "crm.duckdb", mapping=mapping))
        results[name] = {"load_seconds": report.stage_seconds["load"], "total_seconds": time.perf_counter() - started,
                         "merged_customer_records": sum(f.counts.rows_merged for f in report.files),
                         "notes": {f.source.file: list(f.counts.notes) for f in report.files if f.counts.notes}}
    base = results["foundation"]["load_seconds"]
    results["pinned_vs_foundation"] = results["pinned"]["load_seconds"] / base
    results["auto_vs_foundation"] = results["auto"]["load_seconds"] / base
    results["auto_vs_pinned"] = results["auto"]["load_seconds"] / results["pinned"]["load_seconds"]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(prog="python -m bench.mapping_load", description=__doc__,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("raw", type=Path)
    parser.add_argument("work", type=Path)
    parser.add_argument("--foundation", default=FOUNDATION_COMMIT, help="commit of the foundation's ETL")
    args = parser.parse_args(argv)
    try:
        results = run(args.raw, args.work, args.foundation)
    except cli.CommandError as error:
        return cli.fail("bench.mapping_load", error)
    except subprocess.CalledProcessError as error:  # git or the foundation's ETL: their own last line says why
        said = (error.stderr or b"").decode(errors="replace").strip().splitlines()
        return cli.fail("bench.mapping_load", f"{' '.join(error.cmd[:3])} ... failed: {said[-1] if said else error}")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
