"""`Database.run(atomic=False)`: on PostgreSQL each statement commits on its own (one trip each, no
BEGIN/COMMIT, no pre-ping), and a connection the server dropped is replaced, the work run again."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.db import Database


def _write_then_fail(s: Connection) -> None:
    s.execute(text("UPDATE probe SET n = n + 1"))
    raise RuntimeError("after the write")


async def _probe(db: Database) -> int:
    async with db.session() as s:
        return int((await s.execute(text("SELECT n FROM probe"))).scalar_one())


async def test_work_that_guards_each_statement_keeps_what_it_wrote_and_atomic_work_does_not(db: Database) -> None:
    async with db.session() as s:
        await s.execute(text("CREATE TABLE probe (n INTEGER)"))
        await s.execute(text("INSERT INTO probe VALUES (0)"))
    with pytest.raises(RuntimeError):
        await db.run(_write_then_fail)
    assert await _probe(db) == 0  # one transaction, rolled back
    with pytest.raises(RuntimeError):
        await db.run(_write_then_fail, atomic=False)
    # PostgreSQL committed the statement on its own; SQLite still runs one transaction
    assert await _probe(db) == (1 if db.engine.dialect.name == "postgresql" else 0)


async def test_a_connection_the_server_dropped_is_replaced_and_the_work_runs(db: Database) -> None:
    if db.statements is None:
        pytest.skip("only PostgreSQL pools connections for run(atomic=False)")

    def backend(s: Connection) -> int:
        return int(s.execute(text("SELECT pg_backend_pid()")).scalar_one())

    first = await db.run(backend, atomic=False)
    async with db.session() as s:
        assert (await s.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})).scalar_one()
    second = await db.run(backend, atomic=False)
    assert second != first
