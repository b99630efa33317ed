"""Sample store data shipped with the package, for `redheart demo` and the tests.

The files are written as of `ANCHOR`: customers C0001-C0050 bought SHAMPOO-001 (paid) 20-200 days
before it, C0051-C0053 had that order refunded or cancelled, C0054 bought it only two days before,
and C0055-C0060 bought other products only. `write_sample_files` moves every time by
`anchor - ANCHOR`, so a demo run on any day sees purchases of the same age.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from bot.domain.clock import parse_time

ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)

# In the order `redheart import` would load them anyway.
SAMPLE_FILES = ("categories.toml", "products.csv", "customers.csv", "purchases.csv")

# The timestamp columns of each file that move with the anchor.
_TIME_COLUMNS = {"customers.csv": ("last_active_at",), "purchases.csv": ("purchased_at",)}


def read_sample(name: str) -> str:
    """The text of one sample file as shipped (times relative to ANCHOR)."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def write_sample_files(dest: Path, *, anchor: datetime) -> list[Path]:
    """Writes the sample files into `dest`, times shifted so they are as old relative to `anchor`."""
    if anchor.tzinfo is None:
        anchor = anchor.replace(tzinfo=UTC)
    shift = anchor - ANCHOR
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in SAMPLE_FILES:
        text = read_sample(name)
        columns = _TIME_COLUMNS.get(name)
        if columns:
            rows = list(csv.DictReader(io.StringIO(text, newline="")))
            out = io.StringIO(newline="")
            writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            for row in rows:
                for column in columns:
                    if row[column]:
                        row[column] = _iso(parse_time(row[column]) + shift)
                writer.writerow(row)
            text = out.getvalue()
        path = dest / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
