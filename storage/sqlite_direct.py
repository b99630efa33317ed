"""Short SQLite transactions run right on the event loop, without waiting for anything.

A rating tap's transaction is one indexed UPDATE (sometimes a read before it): tens of microseconds
inside SQLite. Through aiosqlite the same transaction is about seven hand-offs to its thread and back
(cursor, execute, close, commit): ~0.7 ms of event-loop CPU each. Even a single hand-off of the whole
transaction to a worker thread cost more than the work: ~1.5 ms a tap in the bench, most of it the
loop and the worker contending for the GIL.

So `DirectSqlite.run` executes the transaction synchronously on the loop, on a connection that is
never allowed to wait:
- `busy_timeout = 0`: if another connection or process holds the write lock, SQLite answers BUSY at
  once instead of sleeping; the transaction is rolled back and run again on a worker thread whose
  connection waits, but only until `BUSY_WAIT` after the transaction was first tried (see there).
- `wal_autocheckpoint = 0`: the commit that crosses the WAL threshold would otherwise copy the WAL
  into the database file and fsync it, on the loop. Instead, every `CHECKPOINT_EVERY` commits a
  passive checkpoint runs on the worker thread.
With synchronous=NORMAL in WAL mode a commit does not fsync, so nothing here touches the disk's
latency on the loop.

The loop keeps one connection open for good rather than taking it from the pool for each transaction:
a checkout, a new `Connection` and the return to the pool (with its reset) were ~0.1 ms of a tap's
~0.4 ms in SQLAlchemy. Nothing else can use it meanwhile: a transaction on it runs to its end without
ever yielding to the loop. Between transactions it holds no lock and no read snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql.expression import UpdateBase

from storage.compiled import Compiled, compiled_for

log = logging.getLogger(__name__)
T = TypeVar("T")

# About 1–3 WAL pages per tap: a checkpoint every 500 commits keeps the WAL near SQLite's own
# default threshold (1,000 pages).
CHECKPOINT_EVERY = 500


# How long a transaction waits for a write lock another process holds, counted from its first try.
# The guarantee: a user's write either lands or fails with DatabaseBusy within about this long, and the
# user is told to try again (nothing was written, so nothing acknowledged is lost). Waiting longer only
# stacked users up: with a 14 s lock held elsewhere, taps queued on the one worker thread each waited
# their own 10 s timeout in turn, held all 16 update slots meanwhile, and /help waited 29 s for one.
# The deadline is shared by everything queued behind the same lock, so the queue drains within it.
# In-process writes hold the lock for microseconds (a tap) to about a second (closing a big round).
BUSY_WAIT = 2.0


class DatabaseBusy(Exception):
    """The database file stayed locked by another writer for `BUSY_WAIT`; nothing was written."""


def is_locked(exc: OperationalError) -> bool:
    code = getattr(exc.orig, "sqlite_errorcode", None)  # extended codes (BUSY_SNAPSHOT…) keep the low byte
    return (code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)) or (
        "locked" in str(exc.orig))


class DirectSqlite:
    """Two small engines on one SQLite file: one for the loop (never waits), one for its worker thread."""

    def __init__(self, path: str, pragmas: Callable[[Any, Any], None]) -> None:
        self._loop_engine = _engine(path, pragmas, "PRAGMA busy_timeout=0", "PRAGMA wal_autocheckpoint=0")
        self._loop_connection: Connection | None = None
        self._thread_engine = _engine(path, pragmas)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="redheart-sqlite")
        self._commits = 0
        self._checkpoint: Future[None] | None = None
        self._compiled: dict[tuple[int, tuple[str, ...]], Compiled] = {}
        self.deferred = 0  # transactions that found the database busy and ran on the thread instead

    async def run(self, work: Callable[[Connection], T]) -> T:
        try:
            result = self._on_loop(work)
        except OperationalError as exc:
            if not is_locked(exc):
                raise
            self.deferred += 1
            deadline = time.monotonic() + BUSY_WAIT
            return await asyncio.get_running_loop().run_in_executor(
                self._thread, self._waiting_transaction, work, deadline)
        self._committed()
        return result

    async def execute(self, statement: UpdateBase, params: Mapping[str, Any]) -> int:
        """One statement that guards itself, committed on its own; returns how many rows it changed.

        The rating tap's compare-and-set, straight through the sqlite3 driver on the loop's connection:
        through SQLAlchemy's `Connection` (a transaction object, an execution context, a result) the
        statement cost ~0.3 ms of CPU a tap, of which SQLite's own work was a third. It is compiled once
        (`storage.compiled`), its arguments through the same bind processors. When SQLite refuses it — the
        file locked by another writer, or anything else — nothing was written (it is rolled back), and
        `run` runs it the ordinary way, which waits off the loop or raises as SQLAlchemy does."""
        compiled = compiled_for(self._compiled, statement, params, self._loop_engine.dialect)
        driver = self._loop_conn().connection.dbapi_connection
        assert driver is not None
        try:
            count = int(driver.execute(compiled.sql, compiled.arguments(params)).rowcount)
            driver.commit()
        except sqlite3.Error:
            with suppress(sqlite3.Error):
                driver.rollback()
            return await self.run(partial(_rowcount, statement, params))
        self._committed()
        return count

    def _committed(self) -> None:
        """Counts a commit on the loop; every `CHECKPOINT_EVERY` of them, a checkpoint on the thread."""
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0 and (self._checkpoint is None or self._checkpoint.done()):
            self._checkpoint = self._thread.submit(self._checkpoint_now)

    def _loop_conn(self) -> Connection:
        """The loop's own connection (opened again if an error closed it)."""
        conn = self._loop_connection
        if conn is None or conn.closed or conn.invalidated:
            conn = self._loop_connection = self._loop_engine.connect()
        return conn

    def _on_loop(self, work: Callable[[Connection], T]) -> T:
        """`work` in a transaction on the loop's own connection."""
        conn = self._loop_conn()
        with conn.begin():
            return work(conn)

    def _waiting_transaction(self, work: Callable[[Connection], T], deadline: float) -> T:
        """`work` on the worker thread, waiting for the write lock until `deadline` at most."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DatabaseBusy()
        try:
            with self._thread_engine.connect() as conn:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={max(1, int(remaining * 1000))}")
                conn.commit()  # the pragma's own (empty) transaction
                with conn.begin():
                    return work(conn)
        except OperationalError as exc:
            if is_locked(exc):
                raise DatabaseBusy() from exc
            raise

    def _checkpoint_now(self) -> None:
        try:
            with self._thread_engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:  # a missed checkpoint only lets the WAL grow until the next one
            log.exception("WAL checkpoint failed")

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop_connection is not None:
            self._loop_connection.close()
        self._loop_engine.dispose()
        await loop.run_in_executor(self._thread, self._thread_engine.dispose)
        self._thread.shutdown(wait=False)


def _engine(path: str, pragmas: Callable[[Any, Any], None], *extra: str) -> Engine:
    engine = create_engine(f"sqlite:///{path}", pool_size=1, max_overflow=0)

    def connect(dbapi_connection: Any, record: Any) -> None:
        pragmas(dbapi_connection, record)
        cursor = dbapi_connection.cursor()
        for statement in extra:
            cursor.execute(statement)
        cursor.close()

    event.listen(engine, "connect", connect)
    return engine


def _rowcount(statement: UpdateBase, params: Mapping[str, Any], conn: Connection) -> int:
    return int(conn.execute(statement, dict(params)).rowcount)
