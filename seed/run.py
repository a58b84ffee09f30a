"""Drive generation block by block, so memory stays flat whatever the customer count."""
from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import numpy as np

from seed.export import RawExport
from seed.generate import SeedParams, build_reference, generate_block


def generate_raw_files(customers: int, seed: int, as_of: datetime, out: Path,
                       progress: bool = False) -> dict[str, int]:
    """Write every raw file for `customers` customers; returns rows written per file."""
    params = SeedParams(customers=customers, seed=seed, as_of=as_of)
    reference = build_reference(params)
    export = RawExport(out)
    try:
        export.write_reference(reference, params)
        blocks = range(0, customers, params.block_size)
        for number, start in enumerate(blocks):
            stop = min(start + params.block_size, customers)
            block = generate_block(reference, params, number, start, stop)
            export.write_block(block, np.random.default_rng([seed, number, 7]))
            if progress:
                print(f"\rseed: {stop:,}/{customers:,} customers", end="", file=sys.stderr)
        if progress:
            print(file=sys.stderr)
    finally:
        export.close()
    return {"customers": customers, **export.rows}
