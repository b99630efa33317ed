"""Which kind of store data a file holds: categories TOML by its name or first line, CSVs by header."""

from __future__ import annotations

import codecs
import csv

from bot.domain.storedata.results import ImportFailed

# Kinds in the order a call imports them: each may refer to rows of the kinds before it.
KIND_ORDER = ("categories", "products", "customers", "purchases")

CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "products": ("sku", "name", "category", "popularity", "sales_volume"),
    "customers": ("customer_id", "phone", "last_active_at"),
    "purchases": ("order_id", "customer_id", "sku", "purchased_at", "status"),
}


def decode(name: str, data: bytes, *, whole: bool = True) -> str:
    """The file's text (`whole`), or of its first bytes (a character cut at their end is left out)."""
    try:
        return codecs.getincrementaldecoder("utf-8-sig")().decode(data, final=whole)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFailed([f"{name}:{line}: the file is not UTF-8 text; save it as UTF-8"]) from None


def head_text(name: str, head: bytes) -> str:
    """The text of a file's first bytes, enough to tell its kind."""
    return decode(name, head, whole=False)


def detect_kind(filename: str, header_or_text: str) -> str:
    """The kind of an import file, from its name (.toml) or its CSV header row; raises ImportFailed."""
    text = header_or_text.removeprefix("\ufeff")
    if filename.lower().endswith(".toml") or _looks_like_toml(text):
        return "categories"
    if not text.strip():
        raise ImportFailed([f"{filename}:1: the file is empty; a header row is required"])
    first = text.splitlines()[0]
    if not first.strip():
        raise ImportFailed([f"{filename}:1: line 1 is blank; the header row must come first"])
    header = normal_header(next(csv.reader([first]), []))
    for kind, columns in CSV_COLUMNS.items():
        if len(header) == len(columns) and set(header) == set(columns):
            return kind
    raise ImportFailed(
        [f"{filename}:1: unknown header, expected one of: {_expected_headers()}{_hint(header)}"]
    )


def normal_header(cells: list[str]) -> list[str]:
    return [cell.strip().lower() for cell in cells]


def _looks_like_toml(text: str) -> bool:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return stripped.startswith("[")
    return False


def _expected_headers() -> str:
    return "; ".join(f"{kind}.csv: {','.join(columns)}" for kind, columns in CSV_COLUMNS.items()) + (
        "; or a categories .toml file"
    )


def _hint(header: list[str]) -> str:
    """Names the closest kind's missing and unexpected columns, which is usually the actual typo."""
    best = max(CSV_COLUMNS, key=lambda kind: len(set(header) & set(CSV_COLUMNS[kind])))
    columns = CSV_COLUMNS[best]
    if len(set(header) & set(columns)) < 2:
        return ""
    missing = [c for c in columns if c not in header]
    unexpected = [c for c in header if c not in columns]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    parts = [
        f"missing {', '.join(missing)}" if missing else "",
        f"unexpected {', '.join(unexpected)}" if unexpected else "",
        f"repeated {', '.join(duplicated)}" if duplicated else "",
    ]
    return f" (closest is {best}.csv: {'; '.join(p for p in parts if p)})"
