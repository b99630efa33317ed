"""One guarded statement on PostgreSQL, straight through asyncpg: the rating tap's compare-and-set.

A tap whose ballot this process remembers is one UPDATE, checked by the database (see
`bot.domain.ballot_sql.CAS`). Measured in one process, 16 taps at a time against the local server,
that UPDATE cost 0.26 ms of CPU a tap through SQLAlchemy's `AsyncConnection` in autocommit (a pool
checkout and return, a greenlet, an execution context and a result for every statement); 0.11 ms
through asyncpg's own pool, whose release runs a reset query — one more trip — every time; 0.055 ms
with that reset skipped. On the half CPU the bench gives each bot, those 0.2 ms a tap were most of what
separated our PostgreSQL bot from the bare-PTB floor.

The statement is still written once, in SQLAlchemy Core: it is compiled here for PostgreSQL, once per
set of parameter names, and every parameter goes through its column type's own bind processor (UTC
timestamps, statuses, JSON), exactly as SQLAlchemy would send it. Each statement commits on its own
(asyncpg's autocommit), so it must guard itself — as every `Database.run(atomic=False)` statement does.

Why the reset can be skipped: a connection here only ever runs such single statements. No transaction,
cursor, listener, advisory lock or session setting is left on it, which is what the reset clears.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import asyncpg
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import UpdateBase

from storage.compiled import Compiled, compiled_for

log = logging.getLogger(__name__)

# How long closing waits for statements in flight (each is one short UPDATE) before cutting them off.
CLOSE_WAIT = 5.0


class Dropped(ConnectionError):
    """The connection went away while the statement was in flight: whether it committed is unknown."""


# The server ending the session (a restart, a failover, pg_terminate_backend): the statement may or may
# not have been written. Every other error the server sends is about the statement itself.
_SERVER_GONE = (asyncpg.PostgresConnectionError, asyncpg.exceptions.AdminShutdownError,
                asyncpg.exceptions.CrashShutdownError, asyncpg.exceptions.CannotConnectNowError)


def _statement_failed(exc: BaseException) -> bool:
    """Whether `exc` is the statement refused (its SQL, its arguments, a constraint), on a connection
    still good — as opposed to the connection failing under it."""
    if isinstance(exc, asyncpg.DataError):  # an argument that could not be encoded
        return True
    return isinstance(exc, asyncpg.PostgresError) and not isinstance(exc, _SERVER_GONE)


class DirectPostgres:
    """A small asyncpg pool for single guarded statements (`execute`); opened on first use."""

    def __init__(self, dialect: Dialect, connect_args: Mapping[str, Any], size: int) -> None:
        self._dialect = dialect
        self._connect_args = dict(connect_args)
        self._size = size
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()
        self._compiled: dict[tuple[int, tuple[str, ...]], Compiled] = {}

    async def execute(self, statement: UpdateBase, params: Mapping[str, Any]) -> int:
        """Runs `statement` with `params` in a transaction of its own; returns how many rows it changed.

        Raises `Dropped` when the connection failed under it (the pool lets that connection go)."""
        compiled = compiled_for(self._compiled, statement, params, self._dialect)
        arguments = compiled.arguments(params)
        pool = self._pool or await self._open()
        try:
            async with pool.acquire() as connection:
                try:
                    status: str = await connection.execute(compiled.sql, *arguments)
                except Exception as exc:
                    if not _statement_failed(exc):
                        # Closed, reset, or left in a state asyncpg cannot go on from (a connection the
                        # server ended while it sat idle answers "another operation is in progress"):
                        # let it go, and the pool opens another in its place.
                        connection.terminate()
                    raise
        except Exception as exc:
            if _statement_failed(exc):
                raise
            raise Dropped(f"{type(exc).__name__}: {exc}") from exc
        return int(status.rsplit(" ", 1)[-1])  # "UPDATE 1"

    async def _open(self) -> asyncpg.Pool:
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(min_size=0, max_size=self._size, reset=_nothing_to_reset,
                                                       **self._connect_args)
            return self._pool

    async def close(self) -> None:
        """Waits for statements in flight (a few seconds at most: then the pool is terminated)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await asyncio.wait_for(pool.close(), CLOSE_WAIT)
            except TimeoutError:  # asyncpg terminates the pool when its graceful close is cancelled
                log.warning("statements still running after %.0f s at shutdown were cut off", CLOSE_WAIT)


async def _nothing_to_reset(_connection: asyncpg.Connection) -> None:
    """A released connection is returned as it is: see the module's docstring."""
