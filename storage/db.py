"""Engine, sessions and migrations.

The bot is async end to end: SQLite through aiosqlite (WAL, so readers never wait on the writer)
and PostgreSQL through asyncpg. No engine exists at import time; `Database.open` builds one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

MIGRATIONS = Path(__file__).parent / "migrations"


def async_url(url: str) -> str:
    """Maps the config's plain URL onto the async driver used for it."""
    if url.startswith("sqlite+aiosqlite") or url.startswith("postgresql+asyncpg"):
        return url
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url.removeprefix("sqlite://")
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix)
    raise ValueError(f"unsupported database URL {url!r}")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


class Database:
    """One engine and its session factory, built once per process and disposed on shutdown."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True) -> Database:
        full = async_url(url)
        if full.startswith("sqlite"):
            path = full.split(":///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = create_async_engine(full, poolclass=NullPool if path == ":memory:" else None)
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            engine = create_async_engine(full, pool_size=10, max_overflow=10, pool_pre_ping=True)
        db = cls(engine)
        if migrate:
            await db.migrate()
        return db

    async def migrate(self) -> None:
        """Brings the schema to the newest migration; safe to run from several processes at once."""
        async with self.engine.begin() as conn:
            if not self.is_sqlite:
                # Serialise concurrent upgrades of processes sharing one PostgreSQL database.
                await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727001)")
            await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "head"))

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block ends normally, rolls back otherwise."""
        async with self.sessions() as session, session.begin():
            yield session

    async def close(self) -> None:
        await self.engine.dispose()
