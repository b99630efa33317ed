"""The three CSV kinds, each a table's rows upserted by natural key through one `upsert`.

A kind says how a CSV row becomes a record (checking it, with what it refers to already loaded) and,
where it differs from "the stored values equal the record's", when a stored row stays as it is. The
existing rows are read and written a batch at a time with bulk SELECT / INSERT / UPDATE statements,
never one statement per row.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.phones import normalise_phone, phone_hash
from bot.domain.storedata.csvrows import RowCheck, Rows, read_csv
from bot.domain.storedata.results import ImportResult, Invalid, show
from storage.models import Category, Customer, Product, Purchase
from storage.statuses import PurchaseStatus

_SKU = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_ID_MAX = 64
_NAME_MAX = 300


@dataclass(frozen=True)
class CsvKind:
    kind: str
    model: type[Any]
    key: str  # the natural key: a CSV column, and the model attribute of the same name
    stored: tuple[str, ...]  # the model attributes read back to tell a changed row from an unchanged one
    # Loads what the rows refer to (or refuses the whole file) and returns the row check.
    prepare: Callable[[AsyncSession, str, str], Awaitable[RowCheck]]
    # Whether a stored row (the `stored` values) stays as it is; default: it equals the record.
    keep: Callable[[tuple[Any, ...], dict[str, Any]], bool] | None = None
    # Values only a new row gets.
    new: dict[str, Any] = field(default_factory=dict)

    def kept(self, stored: tuple[Any, ...], record: dict[str, Any]) -> bool:
        """Whether the stored row stays as it is for this record."""
        return self.keep(stored, record) if self.keep else stored == tuple(record[c] for c in self.stored)


# Rows checked and written at a time. Each batch is checked on a worker thread (parsing, dates, phone
# hashes: CPU the event loop must not spend while buyers tap) and written on the file's one
# transaction; the existing rows are read per batch by key, so nothing grows with the file but the
# set of keys already seen (duplicates within the file). 500 keys also stay under SQLite's 999
# host-parameter limit of older builds.
BATCH = 500


async def upsert(kind: CsvKind, session: AsyncSession, name: str, source: BinaryIO, secret: str) -> ImportResult:
    """Checks every row of the file and adds and updates its rows, a batch at a time in the caller's
    transaction; Invalid with every problem, so the caller rolls the whole file back (all or nothing)."""
    check = await kind.prepare(session, name, secret)
    rows = await asyncio.to_thread(read_csv, name, source, kind.kind)
    key = getattr(kind.model, kind.key)
    columns = [key, *(getattr(kind.model, c) for c in kind.stored)]
    added = updated = unchanged = 0
    while (batch := await asyncio.to_thread(rows.batch, check, BATCH)) is not None:
        if rows.errors or not batch:
            continue  # the file will be refused: checking goes on to report every problem, writing stops
        existing = {k: tuple(rest) for k, *rest in await session.execute(
            select(*columns).where(key.in_([record[kind.key] for record in batch])))}
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for record in batch:
            old = existing.get(record[kind.key])
            if old is None:
                new.append(record | kind.new)
            elif kind.kept(old, record):
                unchanged += 1
            else:
                changed.append(record)
        if new:
            await session.execute(insert(kind.model), new)
        if changed:
            await session.execute(update(kind.model), changed)  # bulk UPDATE by primary key
        added, updated = added + len(new), updated + len(changed)
    rows.check()
    return ImportResult(name, kind.kind, added, updated, unchanged)


async def _products(session: AsyncSession, name: str, secret: str) -> RowCheck:
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


async def _customers(session: AsyncSession, name: str, secret: str) -> RowCheck:
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
            e164 = normalise_phone(raw_phone)
            if e164 is None:
                # The number itself stays out of the message: error texts end up in chats and logs.
                rows.error(line, "phone is not a valid E.164 number (e.g. +8613800138000)")
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


async def _purchases(session: AsyncSession, name: str, secret: str) -> RowCheck:
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
