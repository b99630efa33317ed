"""Loading the store's data: `redheart import FILE...` and documents sent to the bot.

Each file is all or nothing: every row is parsed and checked first, every problem is reported as
`FILE:LINE: what is wrong`, and the file is written in one transaction only when it has none.
Rows are upserted by their natural key, so importing the same file twice changes nothing.

Files of one call are imported in dependency order (categories, products, customers, purchases),
so a file may refer to rows of an earlier file of the same call; a failing file does not stop the
others, and `ImportFailed` reports the failures together with what did get imported.

Large files stay cheap: the existing keys are loaded once per file and rows are written with bulk
INSERT / UPDATE statements, never one SELECT per row.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.clock import parse_time
from bot.domain.errors import DomainError
from bot.domain.phones import normalise_phone, phone_hash
from storage.db import Database
from storage.models import Category, Customer, Factor, Product, Purchase

# Kinds in the order a call imports them: each may refer to rows of the kinds before it.
KIND_ORDER = ("categories", "products", "customers", "purchases")

CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "products": ("sku", "name", "category", "popularity", "sales_volume"),
    "customers": ("customer_id", "phone", "last_active_at"),
    "purchases": ("order_id", "customer_id", "sku", "purchased_at", "status"),
}
PURCHASE_STATUSES = ("paid", "refunded", "cancelled")
MIN_FACTORS, MAX_FACTORS = 5, 10
MAX_SHOWN_ERRORS = 20

_SKU = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_UINT = re.compile(r"^[0-9]+$")
_INT_MAX = 2**31 - 1  # PostgreSQL INTEGER
_ID_MAX = 64
_NAME_MAX = 300

_CATEGORY_FIELDS = {"key": 64, "name_en": 200, "name_zh": 200}
_FACTOR_FIELDS = {"key": 64, "label_en": 200, "label_zh": 200, "question_en": 500, "question_zh": 500}


@dataclass(frozen=True)
class ImportResult:
    file: str
    kind: str  # "products" | "customers" | "purchases" | "categories"
    added: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.added + self.updated + self.unchanged


class ImportFailed(DomainError):
    """One or more files had problems; none of their rows were written.

    `errors` holds every problem as `FILE:LINE: what is wrong`; `results` the files of the same
    call that were imported all the same.
    """

    key = "import.failed"

    def __init__(self, errors: Sequence[str], results: Sequence[ImportResult] = ()) -> None:
        self.errors = list(errors)
        self.results = list(results)
        super().__init__(count=len(self.errors), errors=self.summary())

    def summary(self) -> str:
        """The errors one per line, capped so a broken 100k-row file stays readable."""
        lines = self.errors[:MAX_SHOWN_ERRORS]
        more = len(self.errors) - len(lines)
        if more:
            lines = [*lines, f"... and {more} more error{'s' if more > 1 else ''}"]
        return "\n".join(lines)

    def describe(self) -> str:
        return self.summary()


class _Invalid(Exception):
    """Internal: a file's problems; raised inside its transaction so nothing is written."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} errors")
        self.errors = errors


# ---------------------------------------------------------------------------------------- public


async def import_files(db: Database, paths: Sequence[str | Path], *, secret: str) -> list[ImportResult]:
    """Imports the files in dependency order, each in its own transaction; ImportFailed if any failed."""
    sources: list[tuple[str, bytes]] = []
    errors: list[str] = []
    for path in paths:
        name = str(path)
        try:
            sources.append((name, Path(path).read_bytes()))
        except OSError as exc:
            errors.append(f"{name}: cannot read the file ({exc.strerror or exc})")
    return await _import_all(db, sources, secret=secret, errors=errors)


async def import_document(db: Database, filename: str, data: bytes, *, secret: str) -> ImportResult:
    """Imports one file received as bytes (a document sent to the bot); raises ImportFailed."""
    (result,) = await _import_all(db, [(filename, data)], secret=secret, errors=[])
    return result


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
    header = _normal_header(next(csv.reader([first]), []))
    for kind, columns in CSV_COLUMNS.items():
        if len(header) == len(columns) and set(header) == set(columns):
            return kind
    raise ImportFailed(
        [f"{filename}:1: unknown header, expected one of: {_expected_headers()}{_hint(header)}"]
    )


# ------------------------------------------------------------------------------------ orchestration


async def _import_all(
    db: Database, sources: Iterable[tuple[str, bytes]], *, secret: str, errors: list[str]
) -> list[ImportResult]:
    ready: list[tuple[str, str, str]] = []  # (name, kind, text)
    for name, data in sources:
        try:
            text = _decode(name, data)
            ready.append((name, detect_kind(name, text), text))
        except ImportFailed as exc:
            errors.extend(exc.errors)
    ready.sort(key=lambda item: KIND_ORDER.index(item[1]))  # stable: same kinds keep argument order

    results: list[ImportResult] = []
    for name, kind, text in ready:
        try:
            results.append(await _import_one(db, name, kind, text, secret))
        except ImportFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ImportFailed(errors, results)
    return results


_Importer = Callable[[AsyncSession, str, str, str], Awaitable[ImportResult]]


async def _import_one(db: Database, name: str, kind: str, text: str, secret: str) -> ImportResult:
    importer: _Importer = _IMPORTERS[kind]
    try:
        async with db.session() as session:
            return await importer(session, name, text, secret)
    except _Invalid as exc:
        raise ImportFailed(exc.errors) from None
    except IntegrityError:
        # Only a concurrent writer can get here: every reference was checked inside this transaction.
        raise ImportFailed(
            [f"{name}: the database changed while importing (a concurrent import?); nothing was written"]
        ) from None


def _decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFailed([f"{name}:{line}: the file is not UTF-8 text; save it as UTF-8"]) from None


def _looks_like_toml(text: str) -> bool:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return stripped.startswith("[")
    return False


def _normal_header(cells: list[str]) -> list[str]:
    return [cell.strip().lower() for cell in cells]


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


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:37] + "...")


# ------------------------------------------------------------------------------------------- CSV


@dataclass
class _Rows:
    """A CSV file's data rows as (physical line of the row's start, column -> stripped value)."""

    name: str
    rows: list[tuple[int, dict[str, str]]]
    errors: list[str]

    def error(self, line: int, message: str) -> None:
        self.errors.append(f"{self.name}:{line}: {message}")

    def check(self) -> None:
        if self.errors:
            raise _Invalid(self.errors)


def _read_csv(name: str, text: str, kind: str) -> _Rows:
    columns = CSV_COLUMNS[kind]
    result = _Rows(name, [], [])
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = _normal_header(next(reader))
        line = reader.line_num + 1
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                pass  # blank lines (a trailing newline, a spreadsheet's empty rows) carry nothing
            elif len(cells) != len(columns):
                result.error(
                    line, f"expected {len(columns)} columns ({','.join(header)}), found {len(cells)}"
                )
            else:
                result.rows.append(
                    (line, {col: cell.strip() for col, cell in zip(header, cells, strict=True)})
                )
            line = reader.line_num + 1
    except csv.Error as exc:
        # The reader cannot resynchronise after malformed quoting, so this ends the file's checks.
        result.error(reader.line_num, f"malformed CSV ({exc})")
    return result


def _text_field(rows: _Rows, line: int, column: str, value: str, limit: int) -> bool:
    if not value:
        rows.error(line, f"{column} is empty")
        return False
    if len(value) > limit:
        rows.error(line, f"{column} is longer than {limit} characters")
        return False
    return True


def _count_field(rows: _Rows, line: int, column: str, value: str) -> int | None:
    if not _UINT.match(value):
        rows.error(line, f"{column} must be a non-negative integer, got {_show(value)}")
        return None
    number = int(value)
    if number > _INT_MAX:
        rows.error(line, f"{column} is too large ({value})")
        return None
    return number


def _time_field(rows: _Rows, line: int, column: str, value: str) -> datetime | None:
    try:
        return parse_time(value)
    except (ValueError, OverflowError):
        rows.error(line, f"{column} is not an ISO-8601 time (e.g. 2026-05-01T09:30:00Z), got {_show(value)}")
        return None


def _first_seen(rows: _Rows, seen: dict[str, int], line: int, column: str, key: str) -> bool:
    """False (and an error) when the key already appeared on an earlier line of the file."""
    if key in seen:
        rows.error(line, f"duplicate {column} {_show(key)} (first on line {seen[key]})")
        return False
    seen[key] = line
    return True


@dataclass
class _Upserts:
    added: list[dict[str, Any]]
    updated: list[dict[str, Any]]
    unchanged: int = 0

    def result(self, name: str, kind: str) -> ImportResult:
        return ImportResult(name, kind, len(self.added), len(self.updated), self.unchanged)


async def _write(session: AsyncSession, model: type[Any], upserts: _Upserts) -> None:
    if upserts.added:
        await session.execute(insert(model), upserts.added)
    if upserts.updated:
        await session.execute(update(model), upserts.updated)  # bulk UPDATE by primary key


async def _import_products(session: AsyncSession, name: str, text: str, secret: str) -> ImportResult:
    rows = _read_csv(name, text, "products")
    categories = set(await session.scalars(select(Category.key)))
    existing = {
        sku: rest
        for sku, *rest in await session.execute(
            select(Product.sku, Product.name, Product.category_key, Product.popularity, Product.sales_volume)
        )
    }
    seen: dict[str, int] = {}
    upserts = _Upserts([], [])
    for line, row in rows.rows:
        sku, product, category = row["sku"], row["name"], row["category"]
        ok = True
        if not _SKU.match(sku):
            rows.error(line, f"sku must be 1-64 characters of A-Z a-z 0-9 _ . -, got {_show(sku)}")
            ok = False
        elif not _first_seen(rows, seen, line, "sku", sku):
            ok = False
        ok &= _text_field(rows, line, "name", product, _NAME_MAX)
        if category not in categories:
            rows.error(line, f"unknown category {_show(category)}; import it in a categories .toml first")
            ok = False
        popularity = _count_field(rows, line, "popularity", row["popularity"])
        sales = _count_field(rows, line, "sales_volume", row["sales_volume"])
        if not ok or popularity is None or sales is None:
            continue
        values = [product, category, popularity, sales]
        old = existing.get(sku)
        if old == values:
            upserts.unchanged += 1
            continue
        record = {
            "sku": sku,
            "name": product,
            "category_key": category,
            "popularity": popularity,
            "sales_volume": sales,
        }
        (upserts.added if old is None else upserts.updated).append(record)
    rows.check()
    await _write(session, Product, upserts)
    return upserts.result(name, "products")


async def _import_customers(session: AsyncSession, name: str, text: str, secret: str) -> ImportResult:
    if not secret:
        raise _Invalid(
            [
                f"{name}: identity.secret must be set before importing customers (phones are stored only as "
                "keyed hashes and cannot be hashed without it)"
            ]
        )
    rows = _read_csv(name, text, "customers")
    existing = {
        customer_id: (phone, active, forgotten)
        for customer_id, phone, active, forgotten in await session.execute(
            select(Customer.customer_id, Customer.phone_hash, Customer.last_active_at, Customer.forgotten_at)
        )
    }
    seen: dict[str, int] = {}
    upserts = _Upserts([], [])
    for line, row in rows.rows:
        customer_id, raw_phone, raw_active = row["customer_id"], row["phone"], row["last_active_at"]
        ok = _text_field(rows, line, "customer_id", customer_id, _ID_MAX) and _first_seen(
            rows, seen, line, "customer_id", customer_id
        )
        hashed: str | None = None
        if raw_phone:
            e164 = normalise_phone(raw_phone)
            if e164 is None:
                # The number itself stays out of the message: error texts end up in chats and logs.
                rows.error(line, "phone is not a valid E.164 number (e.g. +8613800138000)")
                ok = False
            else:
                hashed = phone_hash(secret, e164)
        active: datetime | None = None
        if raw_active:
            active = _time_field(rows, line, "last_active_at", raw_active)
            ok &= active is not None
        if not ok:
            continue
        old = existing.get(customer_id)
        if old is not None and (old[2] is not None or old[:2] == (hashed, active)):
            # A customer who asked to be forgotten is not re-identified by the next import.
            upserts.unchanged += 1
            continue
        record = {"customer_id": customer_id, "phone_hash": hashed, "last_active_at": active}
        if old is None:
            upserts.added.append({**record, "opted_out": False, "excluded_by_admin": False})
        else:
            upserts.updated.append(record)
    rows.check()
    await _write(session, Customer, upserts)
    return upserts.result(name, "customers")


async def _import_purchases(session: AsyncSession, name: str, text: str, secret: str) -> ImportResult:
    rows = _read_csv(name, text, "purchases")
    customers = set(await session.scalars(select(Customer.customer_id)))
    skus = set(await session.scalars(select(Product.sku)))
    existing = {
        order_id: rest
        for order_id, *rest in await session.execute(
            select(
                Purchase.order_id, Purchase.customer_id, Purchase.sku, Purchase.purchased_at, Purchase.status
            )
        )
    }
    seen: dict[str, int] = {}
    upserts = _Upserts([], [])
    for line, row in rows.rows:
        order_id, customer_id, sku = row["order_id"], row["customer_id"], row["sku"]
        status = row["status"].lower()
        ok = _text_field(rows, line, "order_id", order_id, _ID_MAX) and _first_seen(
            rows, seen, line, "order_id", order_id
        )
        if customer_id not in customers:
            rows.error(line, f"unknown customer_id {_show(customer_id)}")
            ok = False
        if sku not in skus:
            rows.error(line, f"unknown sku {_show(sku)}")
            ok = False
        purchased_at = _time_field(rows, line, "purchased_at", row["purchased_at"])
        if status not in PURCHASE_STATUSES:
            rows.error(
                line, f"status must be one of {', '.join(PURCHASE_STATUSES)}, got {_show(row['status'])}"
            )
            ok = False
        if not ok or purchased_at is None:
            continue
        values = [customer_id, sku, purchased_at, status]
        old = existing.get(order_id)
        if old == values:
            upserts.unchanged += 1
            continue
        record = {
            "order_id": order_id,
            "customer_id": customer_id,
            "sku": sku,
            "purchased_at": purchased_at,
            "status": status,
        }
        (upserts.added if old is None else upserts.updated).append(record)
    rows.check()
    await _write(session, Purchase, upserts)
    return upserts.result(name, "purchases")


# ------------------------------------------------------------------------------------------ TOML


class _TomlLines:
    """Best-effort line numbers for TOML values: tomllib keeps none, so the text is scanned."""

    _CATEGORY = re.compile(r"^\s*\[\[\s*category\s*\]\]")
    _FACTOR = re.compile(r"^\s*\[\[\s*category\s*\.\s*factor\s*\]\]")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.categories: list[int] = []
        self.factors: list[list[int]] = []
        for number, line in enumerate(self.lines, start=1):
            if self._CATEGORY.match(line):
                self.categories.append(number)
                self.factors.append([])
            elif self._FACTOR.match(line) and self.factors:
                self.factors[-1].append(number)

    def line(self, category: int, factor: int | None = None, field: str | None = None) -> int:
        if category >= len(self.categories):
            return 1
        start = self.categories[category]
        ends = [*self.factors[category], *self.categories[category + 1 : category + 2]]
        if factor is not None:
            if factor >= len(self.factors[category]):
                return start
            start = self.factors[category][factor]
            ends = [
                *self.factors[category][factor + 1 : factor + 2],
                *self.categories[category + 1 : category + 2],
            ]
        if field is None:
            return start
        end = min(ends, default=len(self.lines) + 1)
        assign = re.compile(rf"^\s*[\"']?{re.escape(field)}[\"']?\s*=")
        for number in range(start + 1, end):
            if assign.match(self.lines[number - 1]):
                return number
        return start


def _parse_toml(name: str, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = found.group(1) if found else "1"
        message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))
        raise _Invalid([f"{name}:{line}: invalid TOML: {message}"]) from None


_CategoryValues = tuple[str, str, list[tuple[str, str, str, str, str]]]


def _check_table(
    errors: list[str],
    where: Callable[[str | None], int],
    name: str,
    table: Any,
    fields: dict[str, int],
    what: str,
) -> dict[str, str] | None:
    if not isinstance(table, dict):
        errors.append(f"{name}:{where(None)}: each {what} must be a table")
        return None
    ok = True
    allowed = set(fields) | ({"factor"} if what == "category" else set())
    for unknown in sorted(set(table) - allowed):
        errors.append(f"{name}:{where(unknown)}: unknown {what} field {_show(unknown)}")
        ok = False
    values: dict[str, str] = {}
    for field, limit in fields.items():
        value = table.get(field)
        if not isinstance(value, str) or not value.strip():
            errors.append(f"{name}:{where(field)}: {what} {field} must be a non-empty string")
            ok = False
        elif len(value.strip()) > limit:
            errors.append(f"{name}:{where(field)}: {what} {field} is longer than {limit} characters")
            ok = False
        else:
            values[field] = value.strip()
    key = values.get("key")
    if key is not None and not _KEY.match(key):
        errors.append(
            f"{name}:{where('key')}: {what} key {_show(key)} must be ascii snake_case ([a-z][a-z0-9_]*)"
        )
        ok = False
    return values if ok else None


def _check_categories(name: str, text: str) -> dict[str, _CategoryValues]:
    document = _parse_toml(name, text)
    lines = _TomlLines(text)
    errors: list[str] = []
    for unknown in sorted(set(document) - {"category"}):
        errors.append(f"{name}:1: unknown top-level key {_show(unknown)}; expected [[category]] tables")
    categories = document.get("category")
    if not isinstance(categories, list) or not categories:
        errors.append(f"{name}:1: no [[category]] tables found")
        raise _Invalid(errors)

    parsed: dict[str, _CategoryValues] = {}
    first_line: dict[str, int] = {}
    for c, table in enumerate(categories):
        head = _check_table(errors, partial(lines.line, c, None), name, table, _CATEGORY_FIELDS, "category")
        factors_raw = table.get("factor") if isinstance(table, dict) else None
        if not isinstance(factors_raw, list):
            errors.append(f"{name}:{lines.line(c)}: category has no [[category.factor]] tables")
            continue
        if not MIN_FACTORS <= len(factors_raw) <= MAX_FACTORS:
            errors.append(
                f"{name}:{lines.line(c)}: a category needs {MIN_FACTORS} to {MAX_FACTORS} factors, "
                f"found {len(factors_raw)}"
            )
        factors: list[tuple[str, str, str, str, str]] = []
        factor_lines: dict[str, int] = {}
        for f, factor_table in enumerate(factors_raw):
            values = _check_table(
                errors, partial(lines.line, c, f), name, factor_table, _FACTOR_FIELDS, "factor"
            )
            if values is None:
                continue
            key = values["key"]
            if key in factor_lines:
                errors.append(
                    f"{name}:{lines.line(c, f, 'key')}: duplicate factor key {_show(key)} "
                    f"(first on line {factor_lines[key]})"
                )
                continue
            factor_lines[key] = lines.line(c, f, "key")
            factors.append(tuple(values[field] for field in _FACTOR_FIELDS))  # type: ignore[arg-type]
        if head is None:
            continue
        if head["key"] in first_line:
            errors.append(
                f"{name}:{lines.line(c, None, 'key')}: duplicate category key {_show(head['key'])} "
                f"(first on line {first_line[head['key']]})"
            )
            continue
        first_line[head["key"]] = lines.line(c, None, "key")
        parsed[head["key"]] = (head["name_en"], head["name_zh"], factors)
    if errors:
        raise _Invalid(errors)
    return parsed


async def _import_categories(session: AsyncSession, name: str, text: str, secret: str) -> ImportResult:
    parsed = _check_categories(name, text)
    names = {
        key: (name_en, name_zh)
        for key, name_en, name_zh in await session.execute(
            select(Category.key, Category.name_en, Category.name_zh)
        )
    }
    factors: dict[str, list[tuple[str, str, str, str, str]]] = {}
    for category_key, *values in await session.execute(
        select(
            Factor.category_key,
            Factor.key,
            Factor.label_en,
            Factor.label_zh,
            Factor.question_en,
            Factor.question_zh,
        ).order_by(Factor.category_key, Factor.position)
    ):
        factors.setdefault(category_key, []).append(tuple(values))  # type: ignore[arg-type]

    added = updated = unchanged = 0
    new_factors: list[dict[str, Any]] = []
    for key, (name_en, name_zh, factor_rows) in parsed.items():
        old_names = names.get(key)
        if old_names == (name_en, name_zh) and factors.get(key, []) == factor_rows:
            unchanged += 1
            continue
        if old_names is None:
            added += 1
            await session.execute(insert(Category), [{"key": key, "name_en": name_en, "name_zh": name_zh}])
        else:
            updated += 1
            await session.execute(
                update(Category).where(Category.key == key).values(name_en=name_en, name_zh=name_zh)
            )
            # Rounds copy their factors when they open, so replacing the list never alters a round.
            await session.execute(delete(Factor).where(Factor.category_key == key))
        new_factors += [
            {"category_key": key, "position": position, **dict(zip(_FACTOR_FIELDS, row, strict=True))}
            for position, row in enumerate(factor_rows)
        ]
    if new_factors:
        await session.execute(insert(Factor), new_factors)
    return ImportResult(name, "categories", added, updated, unchanged)


_IMPORTERS: dict[str, _Importer] = {
    "categories": _import_categories,
    "products": _import_products,
    "customers": _import_customers,
    "purchases": _import_purchases,
}
