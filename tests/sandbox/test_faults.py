"""Injected faults keep their promise about whether Telegram acted, and a slow network is slow."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from bot.sandbox import BotApiSandbox
from tests.sandbox.conftest import ErrorLog, PtbApp

CLIENT_READ_TIMEOUT = 0.2


@pytest.fixture
async def bot(sandbox: BotApiSandbox) -> AsyncIterator[Bot]:
    """A bare PTB Bot with a short read timeout, so a held answer times out quickly."""
    request = HTTPXRequest(read_timeout=CLIENT_READ_TIMEOUT)
    async with Bot(sandbox.token, base_url=sandbox.base_url, request=request) as bare_bot:
        yield bare_bot


async def test_a_timeout_after_delivery_shows_the_message_yet_the_bot_sees_a_timeout(
    sandbox: BotApiSandbox, bot: Bot
) -> None:
    alice = sandbox.user("Alice", started=True)
    sandbox.inject_timeout_after_delivery("sendMessage", hang=1.0)

    with pytest.raises(TimedOut):
        await bot.send_message(alice.id, "Your invitation")

    assert alice.last_message.text == "Your invitation"
    (call,) = sandbox.faulted_calls
    assert (call.method, call.fault, call.ok, call.answered) == ("sendMessage", "timeout_after_delivery", True, False)
    assert call.response["result"]["message_id"] == alice.last_message.message_id


async def test_a_timeout_after_delivery_with_no_hang_drops_the_connection_right_after_performing(
    sandbox: BotApiSandbox,
) -> None:
    bob = sandbox.user("Bob", started=True)
    sandbox.inject_fault("timeout_after_delivery", "sendMessage", hang=0)

    async with Bot(sandbox.token, base_url=sandbox.base_url) as patient_bot:  # PTB's 5 s read timeout
        started = time.monotonic()
        with pytest.raises(NetworkError) as raised:
            await patient_bot.send_message(bob.id, "Hello")

    assert not isinstance(raised.value, TimedOut) and time.monotonic() - started < 5
    assert [m.text for m in bob.messages] == ["Hello"]


async def test_a_bot_that_retries_a_lost_answer_sends_the_message_twice(sandbox: BotApiSandbox, bot: Bot) -> None:
    carol = sandbox.user("Carol", started=True)
    sandbox.inject_timeout_after_delivery("sendMessage", hang=0)
    for _attempt in range(2):
        try:
            await bot.send_message(carol.id, "Rate now")
            break
        except NetworkError:
            continue
    assert [m.text for m in carol.messages] == ["Rate now", "Rate now"]
    assert [c.answered for c in sandbox.calls if c.method == "sendMessage"] == [False, True]


@pytest.mark.filterwarnings("ignore:.*retry_after.*timedelta")  # PTB 22's notice on RetryAfter.retry_after
@pytest.mark.parametrize(
    ("kind", "raised", "status"),
    [("429", RetryAfter, 429), ("500", NetworkError, 500), ("disconnect", NetworkError, 0)],
)
async def test_refusing_faults_leave_the_chat_untouched(
    sandbox: BotApiSandbox, bot: Bot, kind: str, raised: type[Exception], status: int
) -> None:
    dan = sandbox.user("Dan", started=True)
    sandbox.inject_fault(kind, "sendMessage", retry_after=7)  # type: ignore[arg-type]

    with pytest.raises(raised):
        await bot.send_message(dan.id, "never shown")

    assert dan.messages == []
    (call,) = sandbox.faulted_calls
    assert (call.fault, call.status, call.ok, call.answered) == (kind, status, False, kind != "disconnect")
    assert sandbox.stats.faults[kind] == 1
    await bot.send_message(dan.id, "the next call goes through")
    assert len(dan.messages) == 1


async def test_a_fault_aimed_at_one_chat_spares_everyone_elses_calls(sandbox: BotApiSandbox, bot: Bot) -> None:
    erin, frank = sandbox.user("Erin", started=True), sandbox.user("Frank", started=True)
    to_erin = await bot.send_message(erin.id, "1/6 Aroma")
    to_frank = await bot.send_message(frank.id, "1/6 Aroma")
    sandbox.inject_fault("500", "editMessageText", chat=frank)

    await to_erin.edit_text("2/6 Cleanliness")
    with pytest.raises(NetworkError):
        await to_frank.edit_text("2/6 Cleanliness")

    assert (erin.last_message.text, frank.last_message.text) == ("2/6 Cleanliness", "1/6 Aroma")
    assert [c.chat_id for c in sandbox.faulted_calls] == [frank.id]


async def test_a_fault_for_any_method_never_hits_the_long_poll_unless_named(sandbox: BotApiSandbox, bot: Bot) -> None:
    sandbox.inject_fault("500")
    assert await bot.get_updates(timeout=0) == ()
    with pytest.raises(NetworkError):
        await bot.get_me()


async def test_fault_kinds_and_chats_are_checked_when_injected(sandbox: BotApiSandbox) -> None:
    with pytest.raises(ValueError, match="unknown fault kind 'timeout'"):
        sandbox.inject_fault("timeout")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no chat 424242"):
        sandbox.inject_fault("500", chat=424242)


async def test_the_user_still_sees_the_reply_whose_answer_the_bot_lost(
    sandbox: BotApiSandbox, polling_app: PtbApp, error_log: ErrorLog
) -> None:
    gina = sandbox.user("Gina")
    sandbox.inject_timeout_after_delivery("sendMessage", chat=gina, hang=0)

    await gina.send("/start")

    assert gina.last_message.text == "Pick one"
    assert isinstance(error_log.errors.pop(), NetworkError)


# --- a slow network ------------------------------------------------------------------------------


async def test_latency_slows_every_call_by_its_round_trip(sandbox: BotApiSandbox) -> None:
    hal = sandbox.user("Hal", started=True)
    sandbox.latency = 0.15
    sandbox.set_latency(0.4, method="sendMessage")

    async with Bot(sandbox.token, base_url=sandbox.base_url) as bot:
        started = time.monotonic()
        await bot.get_me()
        get_me_took = time.monotonic() - started
        started = time.monotonic()
        await bot.send_message(hal.id, "slow")
        send_took = time.monotonic() - started

    assert 0.15 <= get_me_took < send_took  # the default; sendMessage has its own, longer round trip
    assert send_took >= 0.4
    assert sandbox.latency == 0.15


async def test_a_slow_network_still_lets_a_conversation_finish(sandbox: BotApiSandbox, polling_app: PtbApp) -> None:
    sandbox.latency = 0.05
    ivy = sandbox.user("Ivy")
    await ivy.send("/start")
    await ivy.tap("5")
    assert ivy.last_message.text == "You picked vote:5"
