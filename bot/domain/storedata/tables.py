"""The three CSV kinds, each a table's rows upserted by natural key through one `upsert`.

A kind says how a CSV row becomes a record (checking it, with what it refers to already loaded) and,
where it differs from "the stored values equal the record's", when a stored row stays as it is. The
existing rows are loaded once per file and written with bulk INSERT / UPDATE statements, never one
SELECT per row.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.phones import normalise_phone, phone_hash
from bot.domain.storedata.csvrows import Rows, read_csv
from bot.domain.storedata.results import ImportResult, Invalid, show
from storage.models import Category, Customer, Product, Purchase
from storage.statuses import PurchaseStatus

_SKU = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_ID_MAX = 64
_NAME_MAX = 300

# Checks one CSV row (line, column -> value) and returns its record (model attribute -> value), or
# None once its problems are reported on `Rows`.
RowCheck = Callable[[Rows, int, dict[str, str]], dict[str, Any] | None]


@dataclass(frozen=True)
class CsvKind:
    kind: str
    model: type[Any]
    key: str  # the natural key: a CSV column, and the model attribute of the same name
    stored: tuple[str, ...]  # the model attributes read back to tell a changed row from an unchanged one
    # Loads what the rows refer to (or refuses the whole file) and returns the row check.
    prepare: Callable[[AsyncSession, str, str, str], Awaitable[RowCheck]]  # session, file, secret, region
    # Whether a stored row (the `stored` values) stays as it is; default: it equals the record.
    keep: Callable[[tuple[Any, ...], dict[str, Any]], bool] | None = None
    # Values only a new row gets.
    new: dict[str, Any] = field(default_factory=dict)

    def kept(self, stored: tuple[Any, ...], record: dict[str, Any]) -> bool:
        """Whether the stored row stays as it is for this record."""
        return self.keep(stored, record) if self.keep else stored == tuple(record[c] for c in self.stored)


async def upsert(kind: CsvKind, session: AsyncSession, name: str, text: str, secret: str, region: str) -> ImportResult:
    """Checks every row of the file, then adds and updates its rows; Invalid with every problem."""
    check = await kind.prepare(session, name, secret, region)
    rows = read_csv(name, text, kind.kind)
    columns = [getattr(kind.model, c) for c in (kind.key, *kind.stored)]
    existing = {key: tuple(rest) for key, *rest in await session.execute(select(*columns))}
    added: list[dict[str, Any]] = []
    updated: list[dict[str, Any]] = []
    unchanged = 0
    for line, row in rows.rows:
        record = check(rows, line, row)
        if record is None:
            continue
        old = existing.get(record[kind.key])
        if old is None:
            added.append(record | kind.new)
        elif kind.kept(old, record):
            unchanged += 1
        else:
            updated.append(record)
    rows.check()
    if added:
        await session.execute(insert(kind.model), added)
    if updated:
        await session.execute(update(kind.model), updated)  # bulk UPDATE by primary key
    return ImportResult(name, kind.kind, len(added), len(updated), unchanged)


async def _products(session: AsyncSession, name: str, secret: str, region: str) -> RowCheck:
    categories = set(await session.scalars(select(Category.key)))

    def check(rows: Rows, line: int, row: dict[str, str]) -> dict[str, Any] | None:
        sku, product, category = row["sku"], row["name"], row["category"]
        ok = True
        if not _SKU.match(sku):
            rows.error(line, f"sku must be 1-64 characters of A-Z a-z 0-9 _ . -, got {show(sku)}")
            ok = False
        elif not rows.first_seen(line, "sku", sku):
            ok = False
        ok &= rows.text(line, "name", product, _NAME_MAX)
        if category not in categories:
            rows.error(line, f"unknown category {show(category)}; import it in a categories .toml first")
            ok = False
        popularity = rows.count(line, "popularity", row["popularity"])
        sales = rows.count(line, "sales_volume", row["sales_volume"])
        if not ok or popularity is None or sales is None:
            return None
        return {"sku": sku, "name": product, "category_key": category, "popularity": popularity,
                "sales_volume": sales}

    return check


async def _customers(session: AsyncSession, name: str, secret: str, region: str) -> RowCheck:
    if not secret:
        raise Invalid([
            f"{name}: identity.secret must be set before importing customers (phones are stored only as "
            "keyed hashes and cannot be hashed without it)"
        ])

    def check(rows: Rows, line: int, row: dict[str, str]) -> dict[str, Any] | None:
        customer_id, raw_phone, raw_active = row["customer_id"], row["phone"], row["last_active_at"]
        ok = rows.text(line, "customer_id", customer_id, _ID_MAX) and rows.first_seen(line, "customer_id", customer_id)
        hashed: str | None = None
        if raw_phone:
            e164 = normalise_phone(raw_phone, region)
            if e164 is None:
                # The number itself stays out of the message: error texts end up in chats and logs.
                rows.error(line, f"phone is not a valid phone number in {region} or with a country code "
                           "(e.g. 13800138000 or +86 138 0013 8000)")
                ok = False
            else:
                hashed = phone_hash(secret, e164)
        active = rows.time(line, "last_active_at", raw_active) if raw_active else None
        if not ok or (raw_active and active is None):
            return None
        return {"customer_id": customer_id, "phone_hash": hashed, "last_active_at": active}

    return check


def _customer_kept(stored: tuple[Any, ...], record: dict[str, Any]) -> bool:
    phone, active, forgotten = stored
    # A customer who asked to be forgotten is not re-identified by the next import.
    return forgotten is not None or (phone, active) == (record["phone_hash"], record["last_active_at"])


async def _purchases(session: AsyncSession, name: str, secret: str, region: str) -> RowCheck:
    customers = set(await session.scalars(select(Customer.customer_id)))
    skus = set(await session.scalars(select(Product.sku)))

    def check(rows: Rows, line: int, row: dict[str, str]) -> dict[str, Any] | None:
        order_id, customer_id, sku = row["order_id"], row["customer_id"], row["sku"]
        status = row["status"].lower()
        ok = rows.text(line, "order_id", order_id, _ID_MAX) and rows.first_seen(line, "order_id", order_id)
        if customer_id not in customers:
            rows.error(line, f"unknown customer_id {show(customer_id)}")
            ok = False
        if sku not in skus:
            rows.error(line, f"unknown sku {show(sku)}")
            ok = False
        purchased_at = rows.time(line, "purchased_at", row["purchased_at"])
        if status not in set(PurchaseStatus):
            allowed = ", ".join(PurchaseStatus)
            rows.error(line, f"status must be one of {allowed}, got {show(row['status'])}")
            ok = False
        if not ok or purchased_at is None:
            return None
        return {"order_id": order_id, "customer_id": customer_id, "sku": sku, "purchased_at": purchased_at,
                "status": PurchaseStatus(status)}

    return check


PRODUCTS = CsvKind("products", Product, "sku", ("name", "category_key", "popularity", "sales_volume"), _products)
CUSTOMERS = CsvKind("customers", Customer, "customer_id", ("phone_hash", "last_active_at", "forgotten_at"),
                    _customers, keep=_customer_kept, new={"opted_out": False, "excluded_by_admin": False})
PURCHASES = CsvKind("purchases", Purchase, "order_id", ("customer_id", "sku", "purchased_at", "status"), _purchases)
