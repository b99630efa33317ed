"""A close and the buyers' taps, forgetting and "not now" serialise on the round: whoever comes second
sees what the first did. The close is held open with its locks while the other side is fired at it,
so the interleaving is the one that broke, every run (PostgreSQL under READ COMMITTED; SQLite too)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import func, select, text

from bot.bench.fixtures import seed_raters
from bot.domain import ballots, privacy, rounds, scorecards
from bot.domain.ballot_rule import Action, Move
from bot.domain.ballot_views import BallotView
from bot.domain.errors import RoundClosed
from bot.domain.runtime import Runtime
from storage.models import Ballot, Round
from storage.statuses import BallotStatus

ANSWERS = (4, 5, 3, 2, 4)  # the first five factors; the sixth is answered by each test


async def at_summary(rt: Runtime, user: int, round_id: int) -> BallotView:
    view = await ballots.begin(rt, round_id, user)
    for score in (*ANSWERS, 3):
        view, _ = await ballots.press(rt, view.ballot_id, view.rev, Move.score(score), user)
    assert view.screen == "summary"
    return view


async def submitted(rt: Runtime, user: int, round_id: int) -> BallotView:
    view = await at_summary(rt, user, round_id)
    view, _ = await ballots.press(rt, view.ballot_id, view.rev, Move(Action.SUBMIT), user)
    return view


async def waiting_on_a_lock(rt: Runtime) -> None:
    """Returns once another transaction of this database waits for a lock the close holds."""
    for polls in range(2000):
        if rt.db.is_sqlite:
            # The close holds the file's write lock, so nothing the other side writes can land before the
            # close commits, waiting or not; a tap shows it waits (the loop's connection found the file
            # locked and handed the work to the waiting thread), anything else gets a few loop turns.
            direct = rt.db.direct
            if direct is None or direct.deferred or polls >= 5:
                return
        else:
            async with rt.db.engine.connect() as conn:
                waiting = await conn.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"))
            if waiting:
                return
        await asyncio.sleep(0.01)
    raise AssertionError("nothing ever waited for the close")


@asynccontextmanager
async def close_held_open(rt: Runtime, round_id: int, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """Runs the real close, stopped inside its transaction (after scoring, before the commit) until the
    block ends; the close has then committed."""
    release = asyncio.Event()
    scored = asyncio.Event()
    compute = scorecards.compute

    async def compute_then_wait(*args: Any, **kwargs: Any) -> dict[str, Any]:
        report = await compute(*args, **kwargs)
        scored.set()
        await release.wait()
        return report

    monkeypatch.setattr(scorecards, "compute", compute_then_wait)
    closing = asyncio.ensure_future(rounds.close_round(rt, round_id, early=True))
    await asyncio.wait_for(scored.wait(), 30)
    try:
        yield
    finally:
        release.set()
        assert await asyncio.wait_for(closing, 30)
        monkeypatch.setattr(scorecards, "compute", compute)


async def race_the_close(rt: Runtime, round_id: int, monkeypatch: pytest.MonkeyPatch,
                         other: Callable[[], Awaitable[Any]]) -> asyncio.Future[Any]:
    """Fires `other` while the close holds its locks, lets the close commit, and returns `other`'s
    outcome (a finished future: its result or its exception)."""
    async with close_held_open(rt, round_id, monkeypatch):
        racing = asyncio.ensure_future(other())
        await waiting_on_a_lock(rt)
    await asyncio.wait([racing], timeout=30)
    assert racing.done()
    return racing


async def assert_the_report_stands(rt: Runtime, round_id: int) -> None:
    """The stored report counts exactly the database's submitted ballots, and recomputing it from them
    gives the same numbers (so export → score reproduces the published scorecard)."""
    async with rt.db.session() as s:
        rnd = await s.get_one(Round, round_id)
        in_db = await s.scalar(select(func.count()).select_from(Ballot).where(
            Ballot.round_id == round_id, Ballot.status == BallotStatus.SUBMITTED))
        stored = rnd.report
        assert stored is not None
        again = await scorecards.compute(s, rt, rnd, status_if_scored=stored["status"])
    assert stored["ballots"]["submitted"] == in_db
    assert again["ballots"] == stored["ballots"] and again["factors"] == stored["factors"]


@pytest.mark.parametrize("remembered", [True, False], ids=["remembered-ballot", "read-first"])
async def test_a_submit_during_a_close_is_refused_as_closed_and_not_counted(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch, remembered: bool
) -> None:
    round_id, (early, late) = await seed_raters(rt, 2)
    await submitted(rt, early, round_id)
    view = await at_summary(rt, late, round_id)
    if not remembered:
        ballots._ballot_memo(rt).drop(view.ballot_id)
    tap = await race_the_close(rt, round_id, monkeypatch,
                               lambda: ballots.press(rt, view.ballot_id, view.rev, Move(Action.SUBMIT), late))
    assert isinstance(tap.exception(), RoundClosed)  # told the round closed, never thanked
    async with rt.db.session() as s:
        assert (await s.get_one(Ballot, view.ballot_id)).status == BallotStatus.IN_PROGRESS
    await assert_the_report_stands(rt, round_id)


async def test_a_revision_during_a_close_leaves_the_counted_answers(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    round_id, (user,) = await seed_raters(rt, 1)
    view = await submitted(rt, user, round_id)
    counted = dict(view.answers)
    for move in (Move(Action.REVISE), Move.edit(0), Move.score(1)):
        view, _ = await ballots.press(rt, view.ballot_id, view.rev, move, user)
    tap = await race_the_close(rt, round_id, monkeypatch,
                               lambda: ballots.press(rt, view.ballot_id, view.rev, Move(Action.SUBMIT), user))
    assert isinstance(tap.exception(), RoundClosed)
    async with rt.db.session() as s:
        ballot = await s.get_one(Ballot, view.ballot_id)
    assert ballot.submitted == counted and ballot.revisions == 0
    await assert_the_report_stands(rt, round_id)


async def test_forgetting_during_a_close_keeps_the_counted_ballot_anonymously(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    round_id, (user, other) = await seed_raters(rt, 2)
    view = await submitted(rt, user, round_id)
    await submitted(rt, other, round_id)
    forgot = await race_the_close(rt, round_id, monkeypatch, lambda: privacy.forget(rt, user))
    result = forgot.result()
    assert (result.withdrawn, result.anonymised) == (0, 1)
    async with rt.db.session() as s:
        ballot = await s.get_one(Ballot, view.ballot_id)
    assert ballot.status == BallotStatus.SUBMITTED and ballot.customer_id is None and ballot.submitted
    await assert_the_report_stands(rt, round_id)


async def test_rate_now_during_a_close_is_refused_and_begins_no_ballot(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    round_id, (user, other) = await seed_raters(rt, 2)
    await submitted(rt, other, round_id)
    tap = await race_the_close(rt, round_id, monkeypatch, lambda: ballots.begin(rt, round_id, user))
    assert isinstance(tap.exception(), RoundClosed)
    assert (await rounds.round_info(rt, round_id)).stats.started == 1
