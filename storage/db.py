"""Engine, sessions and migrations.

The bot is async end to end: SQLite through aiosqlite (WAL, so readers never wait on the writer)
and PostgreSQL through asyncpg. No engine exists at import time; `Database.open` builds one.

The rating tap is the one path that runs hundreds of times a second, so it gets `Database.run`: a
whole short transaction written as plain synchronous Core. On a SQLite file it runs on the loop
without ever waiting (see `storage.sqlite_direct`); on PostgreSQL the same function runs over
asyncpg, which never leaves the loop either.

On PostgreSQL a tap was six round trips: the pool's pre-ping (BEGIN, `;`, ROLLBACK — asyncpg pings
inside a transaction) and BEGIN, the UPDATE, COMMIT. Each trip is a send, a wake-up of the loop and
asyncpg's and SQLAlchemy's bookkeeping: measured in one process, alternating batches of taps, 0.94 ms
of CPU a tap, 0.80 without the ping and 0.60 with the UPDATE alone (autocommit); SQLite's direct path
is ~0.3. So work that declares every statement guards itself (`atomic=False`: each is a
compare-and-set, checked by the database under the row's lock) runs on an engine of its own in
autocommit without pre-ping: one trip per statement. A connection found dead there is retried once
on a fresh one — the pool is invalidated with it — which pre-ping would otherwise have caught. And the
one statement most taps are — a compare-and-set on a ballot this process remembers — skips SQLAlchemy's
execution altogether (`Database.execute`, `storage.pg_direct`): 0.26 → ~0.06 ms of CPU a tap.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.expression import UpdateBase

from storage.pg_direct import DirectPostgres
from storage.sqlite_direct import BUSY_WAIT, DatabaseBusy, DirectSqlite, is_locked

MIGRATIONS = Path(__file__).parent / "migrations"
T = TypeVar("T")


class EncodedJson(str):
    """A value already encoded as JSON text, for a JSON column: written as it is (see `json_text`).

    SQLAlchemy encodes a JSON column's value when the session flushes, on the event loop: a 100,000-
    ballot round's report (its screening list) took ~0.1 s of `json.dumps` there. Encoded beforehand
    on a worker thread, it is handed over as this."""


def json_text(value: Any) -> str:
    """The engines' JSON serializer: `json.dumps`, except for text already encoded."""
    return str(value) if isinstance(value, EncodedJson) else json.dumps(value)


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
    # A write waits this long for another process's lock, then fails: see `sqlite_direct.BUSY_WAIT`.
    # Reads never wait (WAL). Migrations, run once at start-up, wait longer (`_migrate_sqlite`).
    cursor.execute(f"PRAGMA busy_timeout={int(BUSY_WAIT * 1000)}")
    cursor.close()


def is_busy(error: BaseException) -> bool:
    """Whether `error` is the database being briefly unavailable, not a bug: the SQLite file stayed
    locked by another writer, or a PostgreSQL connection dropped (`is_dropped`). The user can simply
    make the same request again in a moment."""
    if isinstance(error, DatabaseBusy) or is_dropped(error):
        return True
    return isinstance(error, OperationalError) and error.orig is not None and is_locked(error)


# asyncpg's names for a connection that went away under us (a failover, a server restart,
# pg_terminate_backend, a proxy's idle timeout); SQLAlchemy flags only some as invalidated.
_DROPPED = {"ConnectionDoesNotExistError", "InterfaceError", "AdminShutdownError", "CannotConnectNowError",
            "ConnectionFailureError", "ConnectionResetError", "CrashShutdownError"}


def is_dropped(error: BaseException) -> bool:
    """Whether `error` is a PostgreSQL connection lost in the middle of a unit of work."""
    if not isinstance(error, DBAPIError):
        return isinstance(error, ConnectionError)
    if error.connection_invalidated:
        return True
    cause: BaseException | None = error.orig
    while cause is not None:  # SQLAlchemy's adapter wraps asyncpg's own exception
        if type(cause).__name__ in _DROPPED or isinstance(cause, ConnectionError):
            return True
        cause = cause.__cause__
    return False


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


class Database:
    """One engine and its session factory, built once per process and disposed on shutdown."""

    def __init__(self, engine: AsyncEngine, direct: DirectSqlite | None = None,
                 statements: AsyncEngine | None = None, direct_pg: DirectPostgres | None = None) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.direct = direct  # SQLite files only: what `run` uses
        self.statements = statements  # PostgreSQL only: autocommit, no pre-ping, for `run(atomic=False)`
        self.direct_pg = direct_pg  # PostgreSQL only: what `execute` uses

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
            engine = create_async_engine(full, poolclass=NullPool if path == ":memory:" else None,
                                         json_serializer=json_text)
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
            # A second engine on :memory: would be a second database: there `run` uses the async engine.
            db = cls(engine, DirectSqlite(path, _sqlite_pragmas) if path and path != ":memory:" else None)
        else:
            # Taps: up to MAX_CONCURRENT_UPDATES (16) at once, each holding a connection for one trip: most
            # through `direct_pg` (all 16 kept open: with 4 kept, a burst's overflow connections were
            # opened and closed again — a connect, an SSL request and the codec set-up each, 1.4% of a
            # PostgreSQL bench's samples); a ballot's start and first submit through `statements`.
            statements = create_async_engine(full, pool_size=8, max_overflow=8, isolation_level="AUTOCOMMIT",
                                             json_serializer=json_text)
            _, connect_args = statements.dialect.create_connect_args(statements.url)
            db = cls(create_async_engine(full, pool_size=10, max_overflow=10, pool_pre_ping=True,
                                         json_serializer=json_text),
                     statements=statements, direct_pg=DirectPostgres(statements.dialect, connect_args, 16))
        if migrate:
            await db.migrate()
        return db

    async def migrate(self) -> None:
        """Brings the schema to the newest migration; safe to run from several processes at once."""
        if self.is_sqlite:
            await self._migrate_sqlite()
            return
        async with self.engine.begin() as conn:
            # Serialise concurrent upgrades of processes sharing one PostgreSQL database.
            await conn.exec_driver_sql("SELECT pg_advisory_xact_lock(727001)")
            await conn.run_sync(_upgrade)

    async def _migrate_sqlite(self) -> None:
        async with self.engine.connect() as conn:
            # A migration in batch mode rebuilds a table on SQLite: copy, drop, rename. With foreign
            # keys on, dropping `rounds` deletes its rows first, and that cascades into their ballots
            # and invitations. SQLite ignores this pragma inside a transaction, so it comes before one.
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await conn.exec_driver_sql("PRAGMA busy_timeout=10000")  # another process may be migrating
            await conn.commit()
            try:
                async with conn.begin():
                    await conn.run_sync(_upgrade)
                    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        raise RuntimeError(f"a migration broke foreign keys: {broken[:5]}")
            finally:
                await conn.exec_driver_sql(f"PRAGMA busy_timeout={int(BUSY_WAIT * 1000)}")
                await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                await conn.commit()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits when the block ends normally, rolls back otherwise."""
        async with self.sessions() as session, session.begin():
            yield session

    async def run(self, work: Callable[[Connection], T], *, atomic: bool = True,
                  again: Callable[[Connection], T] | None = None) -> T:
        """Runs `work` in one transaction, committed when it returns and rolled back when it raises.

        `work` is short, plain synchronous SQLAlchemy Core on the `Connection` it is given, with no
        side effects outside the database: it may run twice — on SQLite on a worker thread, when the
        first found the database locked (so it must not touch the loop's objects); on PostgreSQL when
        the connection dropped, possibly after the first run committed — then as `again` if given.

        `atomic=False` says each statement of `work` guards itself (a compare-and-set, a guarded
        INSERT … SELECT, a read): on PostgreSQL each then commits on its own (see the module's
        docstring)."""
        if self.direct is not None:
            return await self.direct.run(work)
        engine = self.engine if atomic or self.statements is None else self.statements
        try:
            async with engine.begin() if engine is self.engine else engine.connect() as conn:
                return await conn.run_sync(work)
        except DBAPIError as exc:
            if not is_dropped(exc):
                raise
        # The connection dropped: run the unit once more on a fresh one (the pool has let the dead one
        # go). Idle connections that died are caught by the pool's pre-ping (not on the autocommit
        # engine, which skips it to save a trip); this is for one lost in the middle. A drop during
        # COMMIT leaves unknown whether the first run was written, so the second run (`again`, else
        # `work`) must be safe after it was: every `run` caller is a compare-and-set (a tap, a ballot's
        # start) that a second run finds done — see `bot.domain.ballots.press`.
        async with engine.begin() if engine is self.engine else engine.connect() as conn:
            return await conn.run_sync(again or work)

    async def execute(self, statement: UpdateBase, params: Mapping[str, Any]) -> int:
        """One statement that guards itself (as in `run(atomic=False)`), committed on its own; returns how
        many rows it changed. On PostgreSQL straight through asyncpg (`storage.pg_direct`), which raises
        `storage.pg_direct.Dropped` when the connection failed under it — whether it was written is then
        unknown, and the caller reads to find out; on a SQLite file on the loop's own connection."""
        if self.direct_pg is not None:
            return await self.direct_pg.execute(statement, params)
        if self.direct is not None:
            return await self.direct.execute(statement, params)
        return await self.run(partial(_rowcount, statement, params), atomic=False)

    async def close(self) -> None:
        if self.direct_pg is not None:
            await self.direct_pg.close()
        await self.engine.dispose()
        if self.statements is not None:
            await self.statements.dispose()
        if self.direct is not None:
            await self.direct.close()


def _rowcount(statement: UpdateBase, params: Mapping[str, Any], conn: Connection) -> int:
    return conn.execute(statement, dict(params)).rowcount
