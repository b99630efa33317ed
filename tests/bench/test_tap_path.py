"""The one-write tap path: what this process remembers about a ballot is a hint the database checks,
so a change made anywhere else still wins."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.bench.fixtures import seed_raters
from bot.domain import ballots, people
from bot.domain.ballot_rule import Action, Move
from bot.domain.ballot_views import BallotView
from bot.domain.errors import ForeignButton, RoundClosed, StaleButton
from bot.domain.memo import Memo
from bot.domain.runtime import Runtime
from storage import sqlite_direct
from storage.models import Ballot, Invitation, Round, TelegramUser
from storage.pg_direct import Dropped


async def started(rt: Runtime) -> tuple[int, BallotView]:
    round_id, (user,) = await seed_raters(rt, 1)
    view = await ballots.begin(rt, round_id, user)
    view, _ = await ballots.press(rt, view.ballot_id, view.rev, Move.score(4), user)
    return user, view


async def test_a_close_made_by_another_process_refuses_the_next_tap(rt: Runtime) -> None:
    user, view = await started(rt)
    async with rt.db.session() as s:
        await s.execute(update(Round).where(Round.id == view.round_id).values(status="closed"))
    with pytest.raises(RoundClosed):
        await ballots.press(rt, view.ballot_id, view.rev, Move.score(3), user)


async def test_a_change_made_elsewhere_makes_the_remembered_button_stale(rt: Runtime) -> None:
    user, view = await started(rt)
    async with rt.db.session() as s:
        await s.execute(update(Ballot).where(Ballot.id == view.ballot_id).values(rev=Ballot.rev + 1))
    with pytest.raises(StaleButton):
        await ballots.press(rt, view.ballot_id, view.rev, Move.score(3), user)


async def test_someone_else_tapping_a_remembered_ballot_is_refused(rt: Runtime) -> None:
    _, view = await started(rt)
    with pytest.raises(ForeignButton):
        await ballots.press(rt, view.ballot_id, view.rev, Move.score(3), 424242)


async def test_a_whole_ballot_through_the_remembered_path_lands_in_the_database(rt: Runtime) -> None:
    user, view = await started(rt)
    not_sure, submit = Move(Action.NOT_SURE), Move(Action.SUBMIT)
    for move in (Move.score(5), Move.score(3), not_sure, Move.score(2), Move.score(1), submit):
        view, outcome = await ballots.press(rt, view.ballot_id, view.rev, move, user)
    assert outcome == "submitted" and view.submitted and view.screen == "done"
    async with rt.db.session() as s:
        row = (await s.execute(select(Ballot.rev, Ballot.status, Ballot.submitted, Ballot.owned_days)
                               .where(Ballot.id == view.ballot_id))).one()
    assert row.rev == view.rev and row.status == "submitted" and row.owned_days is not None
    assert list(row.submitted.values()) == [4, 5, 3, 0, 2, 1]


async def test_a_language_choice_shows_at_once_in_this_process(rt: Runtime) -> None:
    async with rt.db.session() as s:
        s.add(TelegramUser(user_id=77, first_seen_at=rt.clock.now()))
    assert await people.language_of(rt, 77, "en") == "en"
    await people.set_language(rt, 77, "zh")
    assert await people.language_of(rt, 77, "en") == "zh"


@pytest.mark.parametrize("chosen", ["zh", None])
async def test_a_ballots_start_reads_the_raters_language_choice_with_it(
        rt: Runtime, monkeypatch: pytest.MonkeyPatch, chosen: str | None) -> None:
    """Rate now is one trip to the database: the first screen's language comes with the ballot, and is
    the user's /language choice (else their Telegram language), as a read of its own would give."""
    round_id, (user,) = await seed_raters(rt, 1)
    async with rt.db.session() as s:
        s.add(TelegramUser(user_id=user, language=chosen, first_seen_at=rt.clock.now()))
    await ballots.begin(rt, round_id, user)

    async def no_read(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the language was read again")

    monkeypatch.setattr(rt.db, "run", no_read)
    assert await people.language_of(rt, user, "en") == (chosen or "en")


def test_a_memo_forgets_entries_after_their_time_and_starts_over_when_full() -> None:
    now = [0.0]
    memo: Memo[int, str] = Memo(ttl=10, max_entries=2, clock=lambda: now[0])
    memo.put(1, "a")
    assert memo.get(1) == (True, "a")
    now[0] = 10.0
    assert memo.get(1) == (False, None)
    memo.put(1, "a"), memo.put(2, "b"), memo.put(3, "c")
    assert len(memo) == 1 and memo.get(3) == (True, "c")


async def test_a_tap_while_another_writer_holds_sqlite_waits_off_the_loop_and_lands(rt: Runtime) -> None:
    """The loop's own connection never waits for a lock: the tap goes to the worker thread, which does,
    and the loop keeps running meanwhile."""
    if rt.db.direct is None:
        pytest.skip("SQLite only: PostgreSQL has no loop-side connection")
    user, view = await started(rt)
    path = rt.db.engine.url.database
    assert path
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's write transaction
    try:
        tap = asyncio.ensure_future(ballots.press(rt, view.ballot_id, view.rev, Move.score(2), user))
        ticks = 0
        while ticks < 20:  # the loop is free while the tap waits
            await asyncio.sleep(0.005)
            ticks += 1
        assert not tap.done()
    finally:
        other.execute("COMMIT")
        other.close()
    view, outcome = await asyncio.wait_for(tap, 10)
    assert outcome == "answered" and rt.db.direct.deferred == 1
    async with rt.db.session() as s:
        assert await s.scalar(select(Ballot.rev).where(Ballot.id == view.ballot_id)) == view.rev


async def test_many_taps_keep_the_write_ahead_log_checkpointed(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    if rt.db.direct is None:
        pytest.skip("SQLite only")
    monkeypatch.setattr(sqlite_direct, "CHECKPOINT_EVERY", 5)
    user, view = await started(rt)
    path = Path(str(rt.db.engine.url.database))
    rest = [Move.score(5), Move.score(3), Move(Action.NOT_SURE), Move.score(2), Move.score(1)]
    for move in rest + [Move.edit(0), Move.score(4)] * 12:  # the rest, then changing the first
        view, _ = await ballots.press(rt, view.ballot_id, view.rev, move, user)
        await asyncio.sleep(0)
    await asyncio.sleep(0.2)  # the last checkpoint runs on the worker thread
    checkpoint = rt.db.direct._checkpoint
    assert checkpoint is not None and checkpoint.done() and checkpoint.exception() is None
    with sqlite3.connect(path) as conn:  # a fresh reader sees every tap
        assert conn.execute("SELECT rev FROM ballots WHERE id = ?", (view.ballot_id,)).fetchone()[0] == view.rev


async def test_a_round_closed_between_a_taps_read_and_its_write_keeps_the_ballot_as_it_was(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    if rt.db.direct is None:
        pytest.skip("SQLite only: the close is made from a second connection in the middle of the tap")
    user, view = await started(rt)
    ballots._ballot_memo(rt).drop(view.ballot_id)  # the reading path: a read, then the write
    read = ballots._read

    def read_then_close(*args: object, **kwargs: object) -> ballots._State:
        state = read(*args, **kwargs)  # type: ignore[arg-type]
        with sqlite3.connect(str(rt.db.engine.url.database)) as other:  # another process closes the round
            other.execute("UPDATE rounds SET status = 'closed' WHERE id = ?", (view.round_id,))
        return state

    monkeypatch.setattr(ballots, "_read", read_then_close)
    with pytest.raises(RoundClosed):  # told why, not just "out of date"
        await ballots.press(rt, view.ballot_id, view.rev, Move.score(2), user)
    async with rt.db.session() as s:
        ballot = await s.get_one(Ballot, view.ballot_id)
    assert ballot.rev == view.rev and ballot.answers == view.answers


@pytest.mark.parametrize("written", [True, False], ids=["after-the-write", "before-the-write"])
async def test_a_tap_whose_connection_dropped_is_answered_and_written_once(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch, written: bool
) -> None:
    """The remembered path's one write lost its connection, after it committed or before: the tap
    reads what the database holds, finds its own write or makes it, and answers as if nothing had
    happened — not "out of date", and not written twice."""
    user, view = await started(rt)
    execute = rt.db.execute

    async def drop(statement: Any, params: Any) -> int:
        if written:
            await execute(statement, params)
        raise Dropped("the server went away")

    monkeypatch.setattr(rt.db, "execute", drop)
    after, outcome = await ballots.press(rt, view.ballot_id, view.rev, Move.score(2), user)
    assert outcome == "answered" and after.rev == view.rev + 1 and after.step == view.step + 1
    assert list(after.answers.values()) == [4, 2]
    async with rt.db.session() as s:
        ballot = await s.get_one(Ballot, view.ballot_id)
    assert ballot.rev == after.rev and ballot.answers == after.answers


@pytest.mark.parametrize("remembered", [True, False], ids=["remembered", "read"])
async def test_a_first_submit_records_how_long_the_rater_had_owned_the_product(
    rt: Runtime, remembered: bool
) -> None:
    """From the purchase read with the ballot at its start (remembered), or read by the submit itself."""
    user, view = await started(rt)
    for move in (Move.score(5), Move.score(3), Move.score(2), Move.score(2), Move.score(1)):
        view, _ = await ballots.press(rt, view.ballot_id, view.rev, move, user)
    if not remembered:
        ballots._ballot_memo(rt).drop(view.ballot_id)
    view, outcome = await ballots.press(rt, view.ballot_id, view.rev, Move(Action.SUBMIT), user)
    assert outcome == "submitted"
    async with rt.db.session() as s:
        bought = await s.scalar(select(Invitation.purchased_at).where(Invitation.round_id == view.round_id,
                                                                     Invitation.telegram_user_id == user))
        owned = await s.scalar(select(Ballot.owned_days).where(Ballot.id == view.ballot_id))
    assert bought is not None and owned == (rt.clock.now() - bought).days and owned >= 30
