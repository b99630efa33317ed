"""PostgreSQL connections dropped under the bot (a failover, a restart, pg_terminate_backend, a proxy's
idle timeout): a tap is retried once on a fresh connection, so the buyer sees nothing, and a retried
tap never applies twice; anything else is answered "busy, try again", never left unanswered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.bench.fixtures import seed_raters
from bot.domain import ballots, people, rounds
from bot.domain.ballot_rule import Action, Move, Outcome
from bot.domain.runtime import Runtime
from storage.db import Database, is_busy, is_dropped
from storage.models import Ballot


async def drop_connections(db: Database) -> None:
    """Terminates every other backend of this database, as a failover would."""
    async with db.engine.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        await conn.commit()


def die(conn: Connection) -> None:
    """The connection of the unit of work drops in its middle."""
    conn.exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")


@pytest.fixture
def pg(rt: Runtime) -> Runtime:
    if rt.db.is_sqlite:
        pytest.skip("PostgreSQL only: a SQLite file has no connection to drop")
    return rt


def first_run_dropped(monkeypatch: pytest.MonkeyPatch, *, committed: bool) -> list[str]:
    """The next tap that takes the reading path (`Database.run`; see `forget`): its first run writes,
    commits if `committed`, and loses its connection before its answer comes back; the runs are listed
    in the returned list."""
    press = ballots._press
    runs: list[str] = []

    def dropping_once(*args: Any, **kwargs: Any) -> Any:
        conn: Connection = args[-1]
        runs.append("run")
        if len(runs) == 1:
            press(*args)  # the tap is written…
            if committed:
                conn.exec_driver_sql("COMMIT")  # …the COMMIT reaches the server…
            die(conn)  # …and the connection dies before the answer comes back
        return press(*args, **kwargs)

    monkeypatch.setattr(ballots, "_press", dropping_once)
    return runs


def forget(rt: Runtime, ballot_id: int) -> None:
    """The next tap on the ballot takes the reading path: one `Database.run` of `ballots._press`. (A
    remembered ballot's tap is one `Database.execute`; its drops are tested in test_tap_path.py.)"""
    ballots._ballot_memo(rt).drop(ballot_id)


async def ballot_row(rt: Runtime, ballot_id: int) -> Ballot:
    async with rt.db.session() as s:
        return await s.get_one(Ballot, ballot_id)


async def test_idle_connections_dropped_between_taps_and_commands_go_unnoticed(pg: Runtime) -> None:
    rt = pg
    round_id, (user,) = await seed_raters(rt, 1)
    view = await ballots.begin(rt, round_id, user)
    for score in (4, 5, 3):
        await drop_connections(rt.db)
        view, _ = await ballots.press(rt, view.ballot_id, view.rev, Move.score(score), user)
    assert list((await ballot_row(rt, view.ballot_id)).answers.values()) == [4, 5, 3]
    await drop_connections(rt.db)
    await people.remember(rt, 4242, "en")
    await drop_connections(rt.db)
    assert [r.id for r in await rounds.list_rounds(rt)] == [round_id]


async def test_a_tap_whose_connection_drops_midway_is_run_again_and_lands_once(
    pg: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    rt = pg
    round_id, (user,) = await seed_raters(rt, 1)
    view = await ballots.begin(rt, round_id, user)
    forget(rt, view.ballot_id)
    runs = first_run_dropped(monkeypatch, committed=False)
    view, outcome = await ballots.press(rt, view.ballot_id, view.rev, Move.score(4), user)
    assert runs == ["run", "run"] and outcome is Outcome.ANSWERED
    row = await ballot_row(rt, view.ballot_id)
    assert row.rev == view.rev == 2 and row.answers == view.answers and len(row.answers) == 1


@pytest.mark.parametrize("move", [Move.score(4), Move(Action.SUBMIT)], ids=["answer", "submit"])
async def test_a_tap_committed_just_before_its_connection_dropped_is_not_applied_twice(
    pg: Runtime, monkeypatch: pytest.MonkeyPatch, move: Move
) -> None:
    """The worst case of a retry: the first run was committed, but its answer was lost with the
    connection. The second run finds its own write and reports it, instead of writing again (a second
    revision) or calling the buyer's own tap out of date."""
    rt = pg
    round_id, (user,) = await seed_raters(rt, 1)
    view = await ballots.begin(rt, round_id, user)
    if move.action is Action.SUBMIT:
        for score in (4, 5, 3, 2, 4, 3):
            view, _ = await ballots.press(rt, view.ballot_id, view.rev, Move.score(score), user)
    before = view
    forget(rt, view.ballot_id)
    runs = first_run_dropped(monkeypatch, committed=True)
    view, outcome = await ballots.press(rt, view.ballot_id, view.rev, move, user)
    assert len(runs) == 2
    row = await ballot_row(rt, view.ballot_id)
    assert row.rev == view.rev == before.rev + 1 and row.answers == view.answers and row.revisions == 0
    assert outcome is (Outcome.SUBMITTED if move.action is Action.SUBMIT else Outcome.ANSWERED)


async def test_a_connection_dropped_twice_is_a_busy_error_not_a_bug(pg: Runtime) -> None:
    rt = pg
    with pytest.raises(Exception) as failed:
        await rt.db.run(die_always())
    assert is_dropped(failed.value) and is_busy(failed.value)


def die_always() -> Callable[[Connection], None]:
    return die
