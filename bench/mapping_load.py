"""`python -m bench.mapping_load RAW_DIR WORK_DIR`: the ETL's load stage on the same files twice,
through the seed mapping (every writing pinned: no detection) and through the same mapping with
encoding, delimiter, dates and decimals left "auto" (detected per file, as for a new company's
exports). Prints JSON with both load times and their ratio (issue 7: at most 1.25x)."""
from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

from etl.mapping import SEED_MAPPING
from etl.pipeline import LoadParams, run_etl


def auto_mapping(target: Path) -> Path:
    """The seed mapping with every pinned writing set to "auto"."""
    text = SEED_MAPPING.read_text(encoding="utf-8")
    text = re.sub(r'^(encoding|dates|decimal|delimiter) = ".*"$', r'\1 = "auto"', text, flags=re.MULTILINE)
    target.write_text(text, encoding="utf-8")
    return target


def run(raw: Path, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    results = {}
    for name, mapping in (("pinned", SEED_MAPPING), ("auto", auto_mapping(work / "auto.toml"))):
        started = time.perf_counter()
        report = run_etl(LoadParams(raw_dir=raw, db_path=work / name / "crm.duckdb", mapping=mapping))
        results[name] = {"load_seconds": report.stage_seconds["load"], "total_seconds": time.perf_counter() - started,
                         "notes": {f.source.file: list(f.counts.notes) for f in report.files if f.counts.notes}}
    results["auto_vs_pinned"] = results["auto"]["load_seconds"] / results["pinned"]["load_seconds"]
    return results


if __name__ == "__main__":
    print(json.dumps(run(Path(sys.argv[1]), Path(sys.argv[2])), indent=2))
