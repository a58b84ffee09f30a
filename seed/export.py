"""Writes generated blocks as the files a company's systems would export.

- `customers.csv`, `agents.csv`: the CRM (comma CSV, UTF-8, ISO dates).
- `interactions.csv`: the call-centre system (comma CSV, ISO timestamps).
- `purchases.parquet`, `products.jsonl`: the web shop.
- `complaints.csv`: a Turkish Excel export (`;`, decimal comma, dd.mm.yyyy, UTF-8 with BOM,
  Turkish headers).
- `survey_responses.jsonl`: the survey tool.
- `product_issues.csv`: the quality team's defect list.

Real exports are never clean, so each block also gets a few duplicated rows, malformed values
and broken lines; the ETL must account for every one of them.

The files hold names, phones and e-mails (made up, but shaped like the real thing, and a demo
folder is easily mistaken for real exports): the folder is its owner's only (0700, files 0600).
The seed writes only into an empty folder or one it wrote before, which it marks with a file
naming itself (`SEED_MARKER`): a company's real exports in `data/raw` are never overwritten
by a made-up company.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from crm360.private_files import FOLDER_MODE, private_file, private_folder
from seed.generate import Block, Reference, SeedParams

COMPLAINT_HEADERS = {
    "complaint_id": "Şikayet No",
    "customer_id": "Müşteri No",
    "opened_at": "Açılış Tarihi",
    "channel": "Kanal",
    "category": "Kategori",
    "severity": "Önem Derecesi",
    "product_id": "Ürün Kodu",
    "first_response_at": "İlk Yanıt Tarihi",
    "resolved_at": "Çözüm Tarihi",
    "status": "Durum",
    "resolution": "Çözüm",
    "satisfaction_after": "Çözüm Sonrası Memnuniyet",
    "refund_amount_try": "İade Tutarı (TL)",
    "description": "Açıklama",
}

UNKNOWN_CUSTOMER = 999_999_999
SEED_MARKER = "WRITTEN-BY-SEED.txt"
SEED_MARKER_TEXT = ("This folder was written by `python -m seed`: a made-up demo company, not a company's exports.\n"
                    "`python -m seed` may write it again; it writes into no other folder that holds files.\n")
TEXT_FILES = ("customers.csv", "interactions.csv", "complaints.csv", "survey_responses.jsonl")
REFERENCE_FILES = ("agents.csv", "products.jsonl", "product_issues.csv", "manifest.json")
SEED_FILES = frozenset((*TEXT_FILES, *REFERENCE_FILES, "purchases.parquet"))
GENERATOR = "python -m seed"


class ForeignFolder(Exception):
    """The output folder holds files the seed did not write; the message names a few of them."""


def claim_folder(out: Path) -> Path:
    """`out`, made if missing, checked to hold nothing but what the seed wrote, narrowed to its
    owner and marked as the seed's. Raises ForeignFolder (having changed nothing) for a folder
    with other files in it."""
    private_folder(out)
    others = sorted(entry.name for entry in out.iterdir() if entry.name != SEED_MARKER)
    if others and not (out / SEED_MARKER).is_file() and not _written_by_an_earlier_seed(out, others):
        others.sort(key=lambda name: (name in SEED_FILES, name))  # the names the seed never writes first
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3:,} more" if len(others) > 3 else "")
        raise ForeignFolder(f"{out} holds files the seed did not write ({shown})")
    os.chmod(out, FOLDER_MODE)
    private_file(out / SEED_MARKER).write_text(SEED_MARKER_TEXT)
    return out


def _written_by_an_earlier_seed(out: Path, names: list[str]) -> bool:
    """A folder seeded before the marker existed: only the seed's files, and its manifest says so."""
    if not set(names) <= SEED_FILES or "manifest.json" not in names:
        return False
    try:
        return json.loads((out / "manifest.json").read_text()).get("generator") == GENERATOR
    except (OSError, ValueError, AttributeError):
        return False


class RawExport:
    """Open output files for the run; `write_block` appends one block to each."""

    def __init__(self, out: Path) -> None:
        self.out = claim_folder(out)
        self._text: dict[str, IO[bytes]] = {
            name: open(self._file(name), "wb")  # noqa: SIM115  (open across blocks; closed in close())
            for name in TEXT_FILES
        }
        self._text["complaints.csv"].write("\ufeff".encode())
        self._purchases: pq.ParquetWriter | None = None
        self._first = True
        self.rows: dict[str, int] = {}

    def _file(self, name: str) -> Path:
        """The path of one output file, made 0600 before anything is written to it (writing an
        existing file keeps its mode)."""
        return private_file(self.out / name)

    def write_reference(self, reference: Reference, params: SeedParams) -> None:
        reference.agents.write_csv(self._file("agents.csv"))
        reference.products.sort("product_id").write_ndjson(self._file("products.jsonl"))
        reference.product_issues.write_csv(self._file("product_issues.csv"))
        manifest = {
            "customers": params.customers,
            "seed": params.seed,
            "as_of": params.as_of.isoformat(timespec="minutes"),
            "generator": GENERATOR,
        }
        self._file("manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")

    def write_block(self, block: Block, rng: np.random.Generator) -> None:
        customers = _dirty_customers(block.customers.drop("_national"), rng)
        interactions = _dirty_interactions(
            block.interactions.drop("_quality"), rng)
        purchases = _dirty_purchases(block.purchases, rng)
        complaints = _dirty_complaints(block.complaints.drop("_resolved_at_first_contact"), rng)
        surveys = _with_duplicates(block.surveys, rng, 0.0003)
        header = self._first
        customers.write_csv(self._text["customers.csv"], include_header=header,
                            date_format="%Y-%m-%d")
        interactions.write_csv(self._text["interactions.csv"], include_header=header,
                               datetime_format="%Y-%m-%d %H:%M:%S")
        # A line cut short, as when an export is interrupted mid-row.
        self._text["interactions.csv"].write(b"4242,1000001,2024-01-01 10:00:00,phone\n")
        complaints.rename(COMPLAINT_HEADERS).write_csv(
            self._text["complaints.csv"], include_header=header, separator=";",
            decimal_comma=True, datetime_format="%d.%m.%Y %H:%M", float_precision=2)
        surveys.write_ndjson(self._text["survey_responses.jsonl"])
        self._text["survey_responses.jsonl"].write(b'{"survey_id": 77, "customer_id": \n')
        table = purchases.to_arrow()
        if self._purchases is None:
            self._purchases = pq.ParquetWriter(self._file("purchases.parquet"), table.schema)
        self._purchases.write_table(table)
        for name, frame in (("customers", customers), ("interactions", interactions),
                            ("purchases", purchases), ("complaints", complaints),
                            ("survey_responses", surveys)):
            self.rows[name] = self.rows.get(name, 0) + len(frame)
        self._first = False

    def close(self) -> None:
        for handle in self._text.values():
            handle.close()
        if self._purchases is not None:
            self._purchases.close()


def _rows(rng: np.random.Generator, height: int, share: float) -> pl.Series:
    """A mask of about `share` of the rows."""
    return pl.Series(rng.random(height) < share)


def _corrupt(frame: pl.DataFrame, column: str, mask: pl.Series, bad: str) -> pl.DataFrame:
    series = frame[column]
    text = (series.dt.strftime("%Y-%m-%d %H:%M:%S") if series.dtype == pl.Datetime
            else series.cast(pl.String))
    return frame.with_columns(
        pl.when(mask).then(pl.lit(bad)).otherwise(text).alias(column))


def _with_duplicates(frame: pl.DataFrame, rng: np.random.Generator, share: float) -> pl.DataFrame:
    return pl.concat([frame, frame.filter(_rows(rng, len(frame), share))])


def _dirty_customers(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    height = len(frame)
    frame = _corrupt(frame, "email", _rows(rng, height, 0.0005), "adsoyad.gmail.com")
    frame = _corrupt(frame, "phone", _rows(rng, height, 0.0002), "12345")
    frame = _corrupt(frame, "birth_date", _rows(rng, height, 0.0002), "1985-02-31")
    frame = _corrupt(frame, "full_name", _rows(rng, height, 0.0001), "")
    return _with_duplicates(frame, rng, 0.0005)


def _dirty_interactions(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    height = len(frame)
    frame = _corrupt(frame, "customer_id", _rows(rng, height, 0.0001), str(UNKNOWN_CUSTOMER))
    frame = _corrupt(frame, "channel", _rows(rng, height, 0.0001), "fax")
    frame = _corrupt(frame, "started_at", _rows(rng, height, 0.0001), "2024-13-45 25:00:00")
    frame = _corrupt(frame, "csat", _rows(rng, height, 0.0001), "7")
    return _with_duplicates(frame, rng, 0.0003)


def _dirty_purchases(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    height = len(frame)
    negative = _rows(rng, height, 0.0001)
    unknown = _rows(rng, height, 0.0001)
    frame = frame.with_columns(
        pl.when(negative).then(-pl.col("net_amount_try")).otherwise(pl.col("net_amount_try")),
        pl.when(unknown).then(pl.lit(UNKNOWN_CUSTOMER, dtype=pl.Int64))
        .otherwise(pl.col("customer_id")).alias("customer_id"),
    )
    return _with_duplicates(frame, rng, 0.0002)


def _dirty_complaints(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    height = len(frame)
    frame = frame.with_columns(
        pl.when(_rows(rng, height, 0.0003)).then(pl.lit("yanlış tarih"))
        .otherwise(pl.col("opened_at").dt.strftime("%d.%m.%Y %H:%M")).alias("opened_at"))
    frame = _corrupt(frame, "category", _rows(rng, height, 0.0002), "diğer")
    return _with_duplicates(frame, rng, 0.0003)
