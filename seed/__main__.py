"""`python -m seed --customers N --seed S --out DIR [--as-of DATE]`: write a demo company's raw
exports. Same arguments, same bytes."""
from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

from crm360 import config
from seed.run import generate_raw_files


def parse_as_of(text: str | None) -> datetime:
    """`YYYY-MM-DD` (noon that day) or `YYYY-MM-DDTHH:MM`; default: the current hour."""
    if text is None:
        return datetime.now().replace(minute=0, second=0, microsecond=0)
    moment = datetime.fromisoformat(text)
    return moment.replace(hour=12) if len(text) == 10 else moment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seed", description=__doc__)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=config.DEFAULT_RAW_DIR)
    parser.add_argument("--as-of", help="end of the history, YYYY-MM-DD[THH:MM]; default now")
    args = parser.parse_args(argv)
    if args.customers < 1:
        parser.error("--customers must be at least 1")
    started = time.perf_counter()
    rows = generate_raw_files(args.customers, args.seed, parse_as_of(args.as_of), args.out,
                              progress=sys.stderr.isatty())
    elapsed = time.perf_counter() - started
    total = sum(rows.values())
    print(f"Wrote {total:,} rows to {args.out} in {elapsed:.1f} s: "
          + ", ".join(f"{name} {count:,}" for name, count in rows.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
