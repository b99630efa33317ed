"""What every part of the benchmark sets up, once: a fresh database, the bots' config, and buyers.

Buyers are written straight into the database in bulk (a product of the sample shampoo category, N
customers who paid for it 30–330 days ago, each linked to a Telegram user), so a run of 100,000
starts in seconds; `seed_raters` also opens a round inviting them all, as if the campaign had
delivered every invitation.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, update

from bot.config import BotConfig, Config, TelegramConfig
from bot.demo.sampledata import read_sample
from bot.domain import rounds
from bot.domain.runtime import Runtime
from bot.domain.settings import IdentityConfig, RoundsConfig
from bot.domain.storedata import import_document
from storage.db import Database
from storage.models import AccountLink, Customer, Invitation, Product, Purchase
from storage.statuses import InvitationStatus, LinkMethod, PurchaseStatus

SECRET = "bench"
SKU = "BENCH-SHAMPOO"
CATEGORY = "shampoo"  # of the sample categories: six factors, labels in both languages
FIRST_USER_ID = 5_000_000
PG_ENV = "REDHEART_TEST_DATABASE_URL"
# Nothing is due while the throughput and memory parts run; a slow tick keeps the scheduler's own
# work out of them. The campaign sets its own.
SLOW_TICK = timedelta(minutes=10)


def backends() -> list[tuple[str, str | None]]:
    """SQLite always (a temp file), PostgreSQL too when the test database URL is set."""
    found: list[tuple[str, str | None]] = [("sqlite", None)]
    if os.environ.get(PG_ENV):
        found.append(("postgresql", os.environ[PG_ENV]))
    return found


@asynccontextmanager
async def bench_database(pg_url: str | None = None) -> AsyncIterator[tuple[Database, str]]:
    """A fresh, migrated database: a temp SQLite file, or a throwaway database on the PostgreSQL server."""
    if pg_url is None:
        with tempfile.TemporaryDirectory(prefix="redheart-bench-") as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            db = await Database.open(url)
            try:
                yield db, url
            finally:
                await db.close()
        return
    import asyncpg
    from sqlalchemy.engine import make_url

    base = make_url(pg_url)
    name = f"rh_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(user=base.username, password=base.password, host=base.host,
                                  port=base.port or 5432, database="postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = base.set(database=name).render_as_string(hide_password=False)
        db = await Database.open(url)
        try:
            yield db, url
        finally:
            await db.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def bench_config(database_url: str, token: str = "1:X", base_url: str = "", *, tick: timedelta = SLOW_TICK,
                 send_rate: float = 0.0, quota: int = RoundsConfig.invitation_quota) -> Config:
    """The config of every bot the bench runs: no admins, no publish chat, English."""
    return Config(
        telegram=TelegramConfig(token=token, base_url=base_url, send_rate=send_rate),
        database_url=database_url,
        # Simulated raters tap far faster than people do; flood protection is measured elsewhere.
        bot=BotConfig(default_language="en", flood_limit=0),
        identity=IdentityConfig(secret=SECRET),
        rounds=RoundsConfig(invitation_quota=quota, tick=tick),
    )


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


async def seed_buyers(db: Database, count: int, now: datetime, *, first_user_id: int = FIRST_USER_ID) -> list[int]:
    """The sample categories, the bench product, and `count` linked, active buyers who paid for it;
    returns their Telegram user ids."""
    await import_document(db, "categories.toml", read_sample("categories.toml").encode(), secret=SECRET)
    user_ids = [first_user_id + i for i in range(count)]
    customers = [f"B{i:07d}" for i in range(count)]
    async with db.session() as s:
        await s.execute(insert(Product), [{"sku": SKU, "name": "Bench shampoo 400ml", "category_key": CATEGORY,
                                           "popularity": 10_000, "sales_volume": 10_000}])
        for chunk in chunks(list(enumerate(zip(user_ids, customers, strict=True))), 5_000):
            await s.execute(insert(Customer), [
                {"customer_id": c, "phone_hash": None, "last_active_at": now - timedelta(days=1),
                 "opted_out": False, "excluded_by_admin": False, "forgotten_at": None} for _, (_, c) in chunk])
            await s.execute(insert(Purchase), [
                {"order_id": f"O{c}", "customer_id": c, "sku": SKU, "status": PurchaseStatus.PAID,
                 "purchased_at": now - timedelta(days=30 + i % 300)} for i, (_, c) in chunk])
            await s.execute(insert(AccountLink), [
                {"telegram_user_id": u, "customer_id": c, "method": LinkMethod.TOKEN,
                 "linked_at": now - timedelta(days=2)} for _, (u, c) in chunk])
    return user_ids


async def seed_raters(rt: Runtime, count: int) -> tuple[int, list[int]]:
    """`seed_buyers`, and an open round inviting all of them (the invitations marked sent, as if the
    campaign had delivered them); returns (round id, user ids)."""
    now = rt.clock.now()
    user_ids = await seed_buyers(rt.db, count, now)
    round_id = await rounds.schedule_round(rt, SKU, actor="bench", quota=count)
    assert await rounds.open_round(rt, round_id)
    async with rt.db.session() as s:
        await s.execute(update(Invitation).where(Invitation.round_id == round_id)
                        .values(status=InvitationStatus.SENT, sent_at=now))
    return round_id, user_ids
