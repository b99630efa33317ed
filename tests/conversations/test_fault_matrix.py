"""The Bot API fault matrix: every method the bot calls during a round meets each fault the sandbox
can inject — a 429, a 500, a dropped connection, and "delivered but the answer was lost".

After each: no acknowledged ballot is lost, nothing is sent or published twice, every callback is
answered, and the buyer (or admin) can go on. The methods, as the code calls them:

| method              | where                                   | what a fault may cost                          |
|---------------------|-----------------------------------------|------------------------------------------------|
| answerCallbackQuery | every tap                               | nothing: retried (bot/retry.py)                |
| editMessageText     | every tap                               | nothing: retried                               |
| sendMessage         | invitations, thanks (the outbox)        | one message in doubt, never resent             |
| sendMessage         | replies (/rate)                         | a reply in doubt: the user asks again          |
| sendPhoto           | the scorecard post                      | a post in doubt: the admins decide             |
| sendDocument        | /export                                 | a document in doubt: the admin asks again      |
| getFile             | a document an admin sends to import     | nothing: retried                               |
| getMe, setMyCommands| start-up                                | nothing: retried                               |

Faults whose answers are lost are injected with `hang=0` (the connection drops at once), which the
bot cannot tell from a timeout: both may hide a delivery.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select
from telegram import Bot
from telegram.error import BadRequest, NetworkError

from bot.domain.outbox import STALE_CLAIM
from bot.profile import PURCHASER_COMMANDS, menu
from bot.retry import IDEMPOTENT, RetryingRequest
from bot.sandbox import SimUser
from bot.sandbox.network import FAULT_KINDS, FaultKind
from storage.models import Ballot, Invitation, Round
from storage.statuses import PublishState
from tests.conversations.conftest import Harness, invitation
from tests.conversations.test_delivery import asked, passes, thanked

AMBIGUOUS: tuple[FaultKind, ...] = ("disconnect", "timeout_after_delivery")
PERFORMED: tuple[FaultKind, ...] = ("timeout_after_delivery",)


def inject(h: Harness, kind: FaultKind, method: str, chat: SimUser | None = None) -> None:
    h.sandbox.inject_fault(kind, method, chat=chat, retry_after=1, hang=0)


@contextmanager
def case(h: Harness, kind: FaultKind, method: str) -> Iterator[None]:
    """One cell of the matrix. The only handler error it may leave is the network failure of a call
    that is not safe to repeat, after a fault that may hide its delivery: the bot cannot know, so it
    neither retries nor claims success. Every callback is answered at the end."""
    before = len(h.errors)
    yield
    raised, h.errors[before:] = h.errors[before:], []
    allowed = kind in AMBIGUOUS and method.lower() not in IDEMPOTENT
    assert all(allowed and isinstance(e, NetworkError) and not isinstance(e, BadRequest) for e in raised), \
        (kind, method, raised)
    assert [r for r in h.sandbox.state.callbacks.values() if r.answered_at is None] == [], (kind, method)
    assert not h.sandbox.network.faults, "the fault was not met"


async def handed_back(h: Harness, round_id: int) -> None:
    """Waits until the bot has recorded the 429 (the round's post claimed again, to retry later): the
    test clock may move on only then, or the claim would be stamped with the later time."""
    for _ in range(200):
        refused = any(c.fault == "429" for c in h.sandbox.calls)  # first: the state read must come after it
        async with h.rt.db.session() as s:
            state = await s.scalar(select(Round.publish_state).where(Round.id == round_id))
        if refused and state == PublishState.CLAIMED:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"round {round_id}: the 429 was never recorded ({state})")


async def ballot_of(h: Harness, user: SimUser) -> Ballot:
    async with h.rt.db.session() as s:
        return (await s.scalars(select(Ballot).where(Ballot.telegram_user_id == user.id))).one()


def received(user: SimUser, text: str) -> int:
    return sum(text in (m.text or "") for m in user.messages)


@pytest.mark.parametrize("method", ["editMessageText", "answerCallbackQuery"])
async def test_taps_go_on_through_every_fault_on_the_edit_and_the_answer(h: Harness, method: str) -> None:
    alice = await h.linked("C0001", "Alice")
    await h.open_round()
    await invitation(alice)
    await alice.tap("❤️ Rate now")
    for step, kind in enumerate(FAULT_KINDS, start=1):
        with case(h, kind, method):
            inject(h, kind, method, chat=alice)
            await alice.tap("4")
            ballot = await ballot_of(h, alice)
            assert ballot.step == step and len(ballot.answers) == step, kind  # counted once
            assert f"{step + 1}/6" in alice.last_message.text, kind  # and the screen followed
    for score in "45":
        await alice.tap(score)
    await alice.tap("✅ Submit")
    ballot = await ballot_of(h, alice)
    assert ballot.submitted == {**ballot.answers} and len(ballot.submitted) == 6


async def test_invitations_replies_and_thanks_meet_every_fault_once_and_are_never_sent_twice(h: Harness) -> None:
    buyers = {kind: await h.linked(f"C{n:04d}", f"Buyer{n}") for n, kind in enumerate(FAULT_KINDS, start=1)}
    for kind, buyer in buyers.items():
        inject(h, kind, "sendMessage", chat=buyer)
    with case(h, "429", "sendMessage"):  # the outbox's own sends: no handler involved
        await h.open_round(duration="2h")
        for kind, buyer in buyers.items():
            if kind != "disconnect":
                await invitation(buyer)
        await passes(h)
    async with h.rt.db.session() as s:
        status = dict((await s.execute(select(Invitation.telegram_user_id, Invitation.status))).all())
    for kind, buyer in buyers.items():
        invited = sum("❤️ Rate now" in m.button_texts for m in buyer.messages)
        assert invited == (0 if kind == "disconnect" else 1), kind
        assert status[buyer.id] == ("unknown" if kind in AMBIGUOUS else "sent"), kind
    for kind, buyer in buyers.items():  # every one of them can rate: /rate needs no invitation message
        with case(h, kind, "sendMessage"):
            inject(h, kind, "sendMessage", chat=buyer)
            await buyer.send("/rate")
            if kind in AMBIGUOUS:
                await buyer.send("/rate")  # the reply may be lost: the buyer asks again
            await buyer.wait_for(lambda u: any("1/6" in (m.text or "") for m in u.messages))
        h.clock.advance(timedelta(seconds=60))
        await buyer.tap("4", message=next(m for m in reversed(buyer.messages) if "1/6" in (m.text or "")))
        for score in "53425":
            h.clock.advance(timedelta(seconds=5))
            await buyer.tap(score)
        await buyer.tap("✅ Submit")
        assert (await ballot_of(h, buyer)).submitted is not None, kind
    for kind, buyer in buyers.items():
        inject(h, kind, "sendMessage", chat=buyer)
    h.clock.advance(timedelta(hours=2, minutes=1))
    for kind, buyer in buyers.items():
        if kind != "disconnect":
            await buyer.wait_for(lambda u: thanked(u) == 1)
    await passes(h)
    assert {kind: thanked(buyer) for kind, buyer in buyers.items()} == {
        "429": 1, "500": 1, "disconnect": 0, "timeout_after_delivery": 1}  # in doubt: never twice


async def test_the_scorecard_meets_every_fault_and_is_posted_exactly_once(h: Harness) -> None:
    admin = h.admin
    for posted, kind in enumerate(FAULT_KINDS, start=1):
        with case(h, kind, "sendPhoto"):
            inject(h, kind, "sendPhoto")
            round_id = await h.open_round(duration="2h")
            await admin.send(f"/closeround {round_id}")
            if kind == "429":  # the channel's limit: posted once the claim expires
                await handed_back(h, round_id)
                h.clock.advance(STALE_CLAIM + timedelta(minutes=1))
            elif kind in AMBIGUOUS:
                await admin.wait_for(lambda u, r=round_id: any(f"scorecard of round {r} " in q for q in asked(u)))
                question = admin.last_message
                h.clock.advance(STALE_CLAIM + timedelta(minutes=1))
                await passes(h)
                assert len(h.channel_posts()) == posted - 1 + (kind in PERFORMED)  # not posted again
                await admin.tap("✅ It's there" if kind in PERFORMED else "🔁 Repost", message=question)
            await admin.wait_for(lambda _, n=posted: len(h.channel_posts()) == n)
            await passes(h)
            assert len(h.channel_posts()) == posted


async def test_an_export_meets_every_fault_and_the_admin_can_always_ask_again(h: Harness) -> None:
    admin = h.admin
    round_id = await h.open_round()
    await admin.send(f"/closeround {round_id}")

    def csvs() -> int:
        return sum(m.media is not None and m.media.file_name == f"round-{round_id}.csv" for m in admin.messages)

    for kind in FAULT_KINDS:
        before = csvs()
        with case(h, kind, "sendDocument"):
            inject(h, kind, "sendDocument", chat=admin)
            await admin.send(f"/export {round_id}")
            await admin.wait_for(lambda _: h.sandbox.is_quiet and not h.sandbox.network.faults)
            await passes(h)  # a retry waits out its 429
        assert csvs() == before + (0 if kind == "disconnect" else 1), kind  # never twice
        await admin.send(f"/export {round_id}")
        await admin.wait_for(lambda _, want=before + (1 if kind == "disconnect" else 2): csvs() == want)


async def test_an_import_meets_every_fault_on_get_file_and_is_applied_once(h: Harness) -> None:
    admin = h.admin
    for n, kind in enumerate(FAULT_KINDS, start=1):
        with case(h, kind, "getFile"):
            inject(h, kind, "getFile")  # (a file, not a chat: the sandbox sees no chat in the call)
            await admin.send_document("products.csv", f"sku,name,category,popularity,sales_volume\n"
                                                      f"NEW-{n},New {n},shampoo,500,400\n".encode())
            await admin.wait_for(lambda u, want=n: received(u, "products.csv: products") == want)
        assert "products.csv: products — 1 added" in admin.last_message.text, kind
        await passes(h)
        assert received(admin, "products.csv: products") == n


async def test_the_bot_starts_through_every_fault_on_get_me(h: Harness) -> None:
    alice = h.person("Alice")
    for kind in FAULT_KINDS:
        with case(h, kind, "getMe"):
            inject(h, kind, "getMe")
            await h.restart()
        await alice.send("/help")
        assert "/rate" in alice.last_message.text, kind


async def test_the_command_menu_is_set_through_every_fault(h: Harness) -> None:
    """setMyCommands, as the start-up sets the menu (`bot.app`), through the bot's own request layer."""
    bot = Bot(h.sandbox.token, base_url=h.sandbox.base_url, request=RetryingRequest())
    async with bot:
        for kind in FAULT_KINDS:
            h.sandbox.profile.commands.clear()
            with case(h, kind, "setMyCommands"):
                inject(h, kind, "setMyCommands")
                await bot.set_my_commands(menu("en", PURCHASER_COMMANDS))
            assert [c.command for c in h.sandbox.commands()] == list(PURCHASER_COMMANDS), kind
