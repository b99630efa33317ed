"""The real Application against the Bot API sandbox, over HTTP, as simulated people see it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from bot.app import build_application
from bot.config import TelegramConfig
from bot.domain import identity
from bot.domain.clock import ManualClock
from bot.domain.runtime import Runtime
from bot.runner import running
from bot.sandbox import BotApiSandbox, SimUser
from bot.sandbox.models import StoredMessage
from tests.conftest import ADMIN_ID, CHANNEL, record_errors

TICK = timedelta(seconds=0.2)


@dataclass
class Harness:
    sandbox: BotApiSandbox
    rt: Runtime
    clock: ManualClock
    errors: list[BaseException]
    restart: Callable[[], Awaitable[None]]
    _admin: SimUser | None = None

    @property
    def admin(self) -> SimUser:
        if self._admin is None:
            self._admin = self.sandbox.user(first_name="Admin", user_id=ADMIN_ID, language_code="en")
        return self._admin

    def person(self, name: str, language: str = "en") -> SimUser:
        return self.sandbox.user(first_name=name, language_code=language)

    async def linked(self, customer_id: str, name: str | None = None, language: str = "en") -> SimUser:
        """A buyer who opened their store's deep link."""
        user = self.person(name or customer_id, language)
        await user.send(f"/start {await identity.issue_link_token(self.rt, customer_id)}")
        return user

    async def open_round(self, sku: str = "SHAMPOO-001", duration: str = "7d") -> int:
        admin = self.admin
        await admin.send(f"/newround {sku} {duration}")
        assert "scheduled" in admin.last_message.text, admin.last_message.text
        return int(admin.last_message.text.split()[1])

    def channel_posts(self) -> list[str]:
        return [m.caption or m.text for m in self.sandbox.chat_messages(CHANNEL)]


async def replies(user: SimUser, turns: dict[str, str]) -> None:
    """The user sends each message in turn; after each, the bot's last message says the expected text."""
    for sent, expected in turns.items():
        await user.send(sent)
        assert expected in user.last_message.text, (sent, user.last_message.text)


async def invitation(user: SimUser) -> None:
    """Waits until the bot's invitation reaches the user."""
    await user.wait_for(lambda u: any("Rate now" in t or "立即评分" in t for t in u.last_message.button_texts)
                        if u.messages else False)


async def rate_at_human_pace(h: Harness, buyers: list[SimUser], *, vary: bool = False) -> None:
    """Each buyer, once invited, rates the whole ballot at a human pace (so screening accepts them);
    with `vary`, every second buyer scores each factor one higher (5 at most)."""
    for i, buyer in enumerate(buyers):
        await invitation(buyer)
        h.clock.advance(timedelta(seconds=60))
        await buyer.tap("❤️ Rate now")
        for score in "453425":
            h.clock.advance(timedelta(seconds=5))
            await buyer.tap(str(min(5, int(score) + i % 2)) if vary else score)
        await buyer.tap("✅ Submit")


async def scorecard_post(h: Harness, buyers: list[SimUser]) -> StoredMessage:
    """Moves the clock past a two-hour round's close; its one channel post, once the first buyer has
    their result."""
    h.clock.advance(timedelta(hours=2, minutes=1))
    await buyers[0].wait_for(lambda u: "Results" in u.last_message.text, timeout=10)
    [post] = h.sandbox.chat_messages(CHANNEL)
    return post


@pytest.fixture
async def h(rt: Runtime, clock: ManualClock, request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    # @pytest.mark.bot_config(publish_chat_id="") runs the test's bot with those [bot] settings.
    marker = request.node.get_closest_marker("bot_config")
    async with BotApiSandbox() as sandbox:
        sandbox.add_channel(CHANNEL, "ratings")
        config = replace(rt.config, telegram=TelegramConfig(token=sandbox.token, base_url=sandbox.base_url),
                         rounds=replace(rt.config.rounds, tick=TICK),
                         bot=replace(rt.config.bot, **marker.kwargs) if marker else rt.config.bot)
        runtime = Runtime(rt.db, config, clock)
        errors: list[BaseException] = []
        state: dict[str, object] = {}

        async def start() -> None:
            app = build_application(runtime)
            record_errors(app, errors)
            cm = running(app, poll_timeout=1)
            await cm.__aenter__()
            state["cm"] = cm

        async def restart() -> None:
            await state["cm"].__aexit__(None, None, None)  # type: ignore[attr-defined]
            await start()

        await start()
        h = Harness(sandbox, runtime, clock, errors, restart)
        try:
            yield h
        finally:
            await state["cm"].__aexit__(None, None, None)  # type: ignore[attr-defined]
        # PTB hands handler exceptions to the error handler; any of them fails the test.
        assert not errors, f"handler errors: {errors!r}"
