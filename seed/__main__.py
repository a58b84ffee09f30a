"""`python -m seed --customers N --seed S --out DIR [--as-of DATE]`: write a demo company's raw
exports. Same arguments, same bytes."""
from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

from crm360 import cli, clock, config
from seed.export import ForeignFolder
from seed.run import generate_raw_files

EARLIEST_AS_OF = datetime(1900, 1, 1)  # customers are up to 85 years old: their birth dates must stay datable


def as_of_moment(text: str) -> datetime:
    """An argparse type: `--as-of`, a moment the history can end at."""
    moment = cli.moment(text)
    if moment < EARLIEST_AS_OF:
        raise argparse.ArgumentTypeError(f"“{text}” is before {EARLIEST_AS_OF.year} (its customers' birth "
                                         "dates, decades earlier, could not be written)")
    return moment


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(prog="python -m seed", description=__doc__)
    parser.add_argument("--customers", type=cli.whole_number(1), default=20_000)
    parser.add_argument("--seed", type=cli.whole_number(0), default=42)
    parser.add_argument("--out", type=Path, default=config.DEFAULT_RAW_DIR)
    parser.add_argument("--as-of", type=as_of_moment, help="end of the history, YYYY-MM-DD[THH:MM]; default now")
    args = parser.parse_args(argv)
    # The data's times are Istanbul wall-clock times (crm360.clock), whatever zone this machine runs in.
    as_of = args.as_of or clock.wall().replace(minute=0, second=0)
    started = time.perf_counter()
    try:
        rows = generate_raw_files(args.customers, args.seed, as_of, cli.folder(args.out, "--out"),
                                  progress=sys.stderr.isatty())
    except cli.CommandError as error:
        return cli.fail("seed", error)
    except ForeignFolder as error:  # a company's real exports, perhaps: never overwritten by a made-up company
        return cli.fail("seed", f"--out {error}; it writes only into an empty folder or one it wrote before: "
                                "choose another with `--out DIR`")
    except OSError as error:  # a full disk or a folder made read-only half-way
        return cli.fail("seed", f"cannot write to {args.out}: {cli.os_reason(error)}")
    elapsed = time.perf_counter() - started
    total = sum(rows.values())
    print(f"Wrote {total:,} rows to {args.out} in {elapsed:.1f} s: "
          + ", ".join(f"{name} {count:,}" for name, count in rows.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
