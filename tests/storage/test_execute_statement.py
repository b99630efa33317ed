"""`Database.execute`: one guarded statement, committed on its own — straight through asyncpg on
PostgreSQL (`storage.pg_direct`) and through the sqlite3 driver on a SQLite file
(`storage.sqlite_direct`), with the column types' own conversions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, bindparam, select, text, update

from bot.bench.fixtures import seed_raters
from bot.domain import ballots
from bot.domain.runtime import Runtime
from storage import pg_direct
from storage.db import Database, is_busy
from storage.models import Ballot
from storage.pg_direct import Dropped
from storage.statuses import BallotStatus

GUARDED = update(Ballot).where(Ballot.id == bindparam("b_id"), Ballot.rev == bindparam("b_rev"))


async def a_ballot(rt: Runtime) -> tuple[int, int]:
    """A started ballot: (its id, its rev)."""
    round_id, (user,) = await seed_raters(rt, 1)
    view = await ballots.begin(rt, round_id, user)
    return view.ballot_id, view.rev


async def test_a_guarded_statement_writes_typed_values_and_counts_the_rows_it_changed(rt: Runtime) -> None:
    ballot_id, rev = await a_ballot(rt)
    when = datetime(2026, 12, 7, 20, 30, 15, 123456, tzinfo=UTC)
    values = {"answers": {"scent": 4, "moisture": 0}, "status": BallotStatus.SUBMITTED, "submitted_at": when,
              "rev": rev + 1}
    assert await rt.db.execute(GUARDED, values | {"b_id": ballot_id, "b_rev": rev}) == 1
    # The same guard again finds the rev moved on: nothing changes, and it says so.
    assert await rt.db.execute(GUARDED, values | {"rev": rev + 2, "b_id": ballot_id, "b_rev": rev}) == 0
    async with rt.db.session() as s:
        row = (await s.execute(select(Ballot.answers, Ballot.status, Ballot.submitted_at, Ballot.rev)
                               .where(Ballot.id == ballot_id))).one()
    assert row.answers == {"scent": 4, "moisture": 0} and row.status is BallotStatus.SUBMITTED
    assert row.submitted_at == when and row.rev == rev + 1


async def test_a_timestamp_in_another_zone_is_stored_as_the_same_instant(rt: Runtime) -> None:
    ballot_id, rev = await a_ballot(rt)
    beijing = datetime(2026, 12, 8, 4, 30, tzinfo=UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    assert await rt.db.execute(GUARDED, {"updated_at": beijing, "b_id": ballot_id, "b_rev": rev}) == 1
    async with rt.db.session() as s:
        stored = (await s.execute(select(Ballot.updated_at).where(Ballot.id == ballot_id))).scalar_one()
    assert stored == datetime(2026, 12, 8, 4, 30, tzinfo=UTC)


async def test_idle_connections_the_server_killed_are_replaced_without_a_word(rt: Runtime) -> None:
    if rt.db.direct_pg is None:
        pytest.skip("only PostgreSQL runs statements through connections of their own")
    ballot_id, rev = await a_ballot(rt)
    assert await rt.db.execute(GUARDED, {"step": 2, "b_id": ballot_id, "b_rev": rev}) == 1
    async with rt.db.session() as s:
        killed = (await s.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND datname = current_database() AND state = 'idle'"))).scalar_one()
    assert killed >= 1
    await asyncio.sleep(0.1)  # the pool's connections hear of it
    assert await rt.db.execute(GUARDED, {"step": 3, "b_id": ballot_id, "b_rev": rev}) == 1


async def test_a_connection_killed_under_a_statement_is_reported_dropped(rt: Runtime) -> None:
    """Whether the statement was written is then unknown: the caller must find out (see
    `bot.domain.ballots.press`), and a user who sees it is told to try again."""
    if rt.db.direct_pg is None:
        pytest.skip("only PostgreSQL runs statements through connections of their own")
    ballot_id, rev = await a_ballot(rt)
    async with rt.db.session() as holder:
        await holder.execute(select(Ballot.id).where(Ballot.id == ballot_id).with_for_update())
        waiting = asyncio.create_task(rt.db.execute(GUARDED, {"step": 2, "b_id": ballot_id, "b_rev": rev}))
        async with rt.db.engine.connect() as other:
            for _ in range(100):
                pids = (await other.execute(text(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"))).scalars().all()
                await other.commit()  # pg_stat_activity is read once per transaction
                if pids:
                    break
                await asyncio.sleep(0.05)
            assert len(pids) == 1
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pids[0]})
        with pytest.raises(Dropped) as raised:
            await waiting
    assert is_busy(raised.value)
    assert await rt.db.execute(GUARDED, {"step": 3, "b_id": ballot_id, "b_rev": rev}) == 1


async def test_a_statement_needing_python_side_defaults_is_refused(db: Database) -> None:
    if db.direct_pg is None and db.direct is None:
        pytest.skip("in-memory SQLite runs statements through SQLAlchemy, which computes such defaults itself")
    table = Table("stamped", MetaData(), Column("id", Integer, primary_key=True),
                  Column("changed", DateTime, onupdate=lambda: datetime.now(UTC) - timedelta(0)))
    with pytest.raises(ValueError, match="defaults computed in Python"):
        await db.execute(update(table).where(table.c.id == bindparam("b_id")), {"b_id": 1})


async def test_closing_cuts_off_a_statement_stuck_behind_a_lock(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """A shutdown waits for statements in flight, but not for ever."""
    if rt.db.direct_pg is None:
        pytest.skip("only PostgreSQL runs statements through connections of their own")
    monkeypatch.setattr(pg_direct, "CLOSE_WAIT", 0.5)
    ballot_id, rev = await a_ballot(rt)
    async with rt.db.session() as holder:
        await holder.execute(select(Ballot.id).where(Ballot.id == ballot_id).with_for_update())
        stuck = asyncio.create_task(rt.db.execute(GUARDED, {"step": 2, "b_id": ballot_id, "b_rev": rev}))
        await asyncio.sleep(0.3)
        assert not stuck.done()
        await asyncio.wait_for(rt.db.direct_pg.close(), 5)
        with pytest.raises(Dropped):  # the user is told to try again
            await stuck
