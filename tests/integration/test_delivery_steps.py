"""The thank-you outbox and the scorecard's steps in the database (SQLite and PostgreSQL): what a
stop, a crash and overlapping runs leave behind, and that nothing is sent twice or lost."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, insert, select

from bot.app import build_application
from bot.bench.fixtures import seed_raters
from bot.config import TelegramConfig
from bot.domain import outbox, publication, rounds
from bot.domain.clock import ManualClock
from bot.domain.runtime import Runtime
from bot.jobs import reconcile
from bot.runner import running
from bot.sandbox import BotApiSandbox
from storage.models import Ballot, Invitation, RoundFactor
from storage.statuses import BallotStatus, PublishState, ThanksStatus
from tests.conftest import CHANNEL, record_errors

LATER = timedelta(minutes=6)  # past `rounds.claim_timeout` (5 minutes by default)


async def published_round(rt: Runtime, raters: int) -> tuple[int, list[int]]:
    """A round whose `raters` invited buyers all submitted, closed and posted: every one owed thanks."""
    round_id, user_ids = await seed_raters(rt, raters)
    now = rt.clock.now()
    async with rt.db.session() as s:
        keys = list(await s.scalars(select(RoundFactor.key).where(RoundFactor.round_id == round_id)))
        invited = (await s.execute(select(Invitation.customer_id, Invitation.telegram_user_id)
                                   .where(Invitation.round_id == round_id))).all()
        answers = dict.fromkeys(keys, 4)
        await s.execute(insert(Ballot), [
            {"round_id": round_id, "customer_id": c, "rater": f"r{i}", "telegram_user_id": u, "chat_id": u,
             "step": len(keys) + 1, "rev": 9, "answers": answers, "submitted": answers,
             "status": BallotStatus.SUBMITTED, "started_at": now, "updated_at": now, "submitted_at": now,
             "revisions": 0} for i, (c, u) in enumerate(invited)])
    assert await rounds.close_round(rt, round_id, early=True)
    [claimed] = await publication.claim(rt)
    assert await publication.start_sending(rt, claimed)
    assert await publication.posted(rt, round_id, 1)
    return round_id, user_ids


async def thanks_by_status(rt: Runtime) -> dict[str, int]:
    async with rt.db.session() as s:
        rows = await s.execute(select(Ballot.thanks_status, func.count()).group_by(Ballot.thanks_status))
        return {status: n for status, n in rows}


async def test_thanks_a_stopping_sender_never_sent_are_handed_back_and_claimed_again(rt: Runtime) -> None:
    await published_round(rt, 12)
    first = await outbox.claim_thanks(rt, 10)
    assert len(first) == 10 and await outbox.claim_thanks(rt, 10) != []  # the other two
    await outbox.settle_thanks(rt, [], [t.id for t in first])  # the stop: none of them left
    again = await outbox.claim_thanks(rt, 100)
    assert sorted(t.id for t in again) == sorted(t.id for t in first)


async def test_after_a_crash_only_the_thanks_in_flight_are_in_doubt_and_the_rest_are_sent(
    rt: Runtime, clock: ManualClock
) -> None:
    await published_round(rt, 12)
    batch = await outbox.claim_thanks(rt, 10)
    in_flight = [t.id for t in batch[:2]]
    for ballot_id in in_flight:
        assert await outbox.start_thanks(rt, ballot_id)
    # The process dies here: nothing settled, nothing handed back.
    assert await outbox.recover_stale_claims(rt) == 0  # too early to tell a crash from a slow batch
    clock.advance(LATER)
    assert await outbox.recover_stale_claims(rt) == 2
    rest = await outbox.claim_thanks(rt, 100)
    assert len(rest) == 10 and not set(in_flight) & {t.id for t in rest}
    for thanks in rest:
        assert await outbox.start_thanks(rt, thanks.id)
    await outbox.settle_thanks(rt, [outbox.Settlement(t.id, outbox.InvitationStatus.SENT) for t in rest], [])
    assert await thanks_by_status(rt) == {ThanksStatus.SENT: 10, ThanksStatus.UNKNOWN: 2}


async def test_concurrent_claims_take_every_thank_you_once_without_waiting_on_each_other(rt: Runtime) -> None:
    await published_round(rt, 300)
    claimed: list[int] = []
    while batches := await asyncio.gather(*(outbox.claim_thanks(rt, 20) for _ in range(8))):
        if not any(batches):
            break
        claimed += [t.id for batch in batches for t in batch]
    assert len(claimed) == 300 and len(set(claimed)) == 300


async def test_overlapping_reconcile_runs_thank_every_rater_exactly_once(rt: Runtime) -> None:
    async with BotApiSandbox() as sandbox:
        sandbox.add_channel(CHANNEL, "ratings")
        _, user_ids = await published_round(rt, 120)
        users = [sandbox.user(first_name=f"R{u}", user_id=u, started=True) for u in user_ids]
        config = replace(rt.config, telegram=TelegramConfig(token=sandbox.token, base_url=sandbox.base_url,
                                                            send_rate=1000.0),
                         rounds=replace(rt.config.rounds, tick=timedelta(seconds=0.05)))
        app = build_application(Runtime(rt.db, config, rt.clock))
        errors: list[BaseException] = []
        record_errors(app, errors)
        async with running(app, poll_timeout=1):
            assert app.job_queue is not None
            for _ in range(10):  # an admin's wake-ups on top of the ticks
                app.job_queue.run_once(reconcile, 0.0)
                await asyncio.sleep(0.01)
            await users[-1].wait_for(lambda u: bool(u.messages), timeout=20)
            for user in users:
                await user.wait_for(lambda u: bool(u.messages), timeout=20)
        assert not errors
        got = Counter(c.chat_id for c in sandbox.calls if c.method == "sendMessage" and c.ok)
        assert got == Counter(user_ids)  # each rater once
        assert await thanks_by_status(rt) == {ThanksStatus.SENT: 120}


async def test_a_scorecard_claim_that_died_drawing_is_taken_again_but_one_that_died_sending_is_in_doubt(
    rt: Runtime, clock: ManualClock
) -> None:
    # Two overlapping rounds of one product: forced (bot.domain.roundchecks refuses them otherwise).
    drawing, sending = [await rounds.schedule_round(rt, "SHAMPOO-001", actor="test", force=True) for _ in range(2)]
    for round_id in (drawing, sending):
        await rounds.admin_close(rt, round_id)
    claims = {c.round_id: c for c in await publication.claim(rt)}
    assert set(claims) == {drawing, sending}
    assert await publication.start_sending(rt, claims[sending])
    # The process dies: one round was being drawn, the other's post had left.
    assert await publication.claim(rt) == [] and await publication.recover_stale(rt) == 0
    clock.advance(LATER)
    assert await publication.recover_stale(rt) == 1
    [again] = await publication.claim(rt)
    assert again.round_id == drawing
    assert not await publication.start_sending(rt, claims[drawing])  # the dead process's claim is void
    [doubt] = await publication.unreported(rt)
    assert (doubt.round_id, doubt.state) == (sending, PublishState.IN_DOUBT)
    await publication.reported(rt, doubt)
    assert await publication.unreported(rt) == []
    clock.advance(LATER)
    # The drawing round is free again (nobody posted it); the one in doubt never, without an admin.
    assert [c.round_id for c in await publication.claim(rt)] == [drawing]


async def test_a_bot_stopped_in_the_middle_of_the_thanks_hands_them_back_and_the_next_one_sends_the_rest(
    rt: Runtime,
) -> None:
    async with BotApiSandbox() as sandbox:
        sandbox.add_channel(CHANNEL, "ratings")
        _, user_ids = await published_round(rt, 60)
        users = [sandbox.user(first_name=f"R{u}", user_id=u, started=True) for u in user_ids]
        config = replace(rt.config, telegram=TelegramConfig(token=sandbox.token, base_url=sandbox.base_url,
                                                            send_rate=30.0),  # Telegram's pace: 2 s of thanks
                         rounds=replace(rt.config.rounds, tick=timedelta(seconds=0.05)))
        errors: list[BaseException] = []
        for stop_early in (True, False):
            app = build_application(Runtime(rt.db, config, rt.clock))
            record_errors(app, errors)
            async with running(app, poll_timeout=1):
                if stop_early:  # the bot is stopped (a deploy) once ten raters are thanked
                    await users[9].wait_for(lambda u: bool(u.messages), timeout=20)
                    app.bot_data.campaign.halt.set()
                else:
                    for user in users:
                        await user.wait_for(lambda u: bool(u.messages), timeout=20)
        assert not errors
        got = Counter(c.chat_id for c in sandbox.calls if c.method == "sendMessage" and c.ok)
        assert got == Counter(user_ids)  # each rater once: none lost to the stop, none repeated
        assert await thanks_by_status(rt) == {ThanksStatus.SENT: 60}
