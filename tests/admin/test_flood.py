"""Flood protection: a user sending too much is ignored for a while, told once, and slows nobody."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest

from bot.domain.runtime import Runtime
from bot.flood import FloodGuard
from tests.conftest import FakeTime
from tests.conversations.conftest import Harness

LIMIT = 5


@pytest.fixture
async def rt(rt: Runtime) -> Runtime:
    """The shared runtime with a low flood limit (the other tests raise it out of the way)."""
    return replace(rt, config=replace(rt.config, bot=replace(rt.config.bot, flood_limit=LIMIT)))


def test_the_guard_pauses_past_the_limit_within_the_window_and_lets_go_after_the_pause() -> None:
    clock = FakeTime()
    guard = FloodGuard(limit=3, window=10.0, pause=60.0, clock=clock)
    assert [guard.check(1) for _ in range(3)] == ["ok"] * 3
    assert guard.check(2) == "ok"  # someone else is not affected
    assert guard.check(1) == "paused"
    assert guard.check(1) == "ignored" and guard.check(2) == "ok"
    clock.now += 60.0
    assert guard.check(1) == "ok"


def test_updates_spread_beyond_the_window_never_trip_the_guard() -> None:
    clock = FakeTime()
    guard = FloodGuard(limit=3, window=10.0, pause=60.0, clock=clock)
    for _ in range(20):
        assert guard.check(1) == "ok"
        clock.now += 4.0  # three in any 10 s at most


async def test_a_flooding_user_is_told_once_then_ignored_while_others_are_answered(h: Harness) -> None:
    mallory, alice = h.person("Mallory"), h.person("Alice")
    for _ in range(LIMIT):
        await mallory.send("/help")
    assert len(mallory.messages) == LIMIT
    await mallory.send("/help")
    assert "lot of messages" in mallory.last_message.text and "60 s" in mallory.last_message.text
    flood = [await mallory.send("/help", wait=False) for _ in range(50)]
    started = time.monotonic()
    await alice.send("/help")
    assert "Little Red Heart" in alice.last_message.text
    assert time.monotonic() - started < 2.0
    for record in flood:
        await h.sandbox.wait_handled(record, expect_reply=False)
    await asyncio.sleep(0.2)
    assert len(mallory.messages) == LIMIT + 1  # told once, nothing more


async def test_admins_are_never_paused(h: Harness) -> None:
    for _ in range(LIMIT + 3):
        await h.admin.send("/rounds")
    assert all("No rounds yet" in m.text for m in h.admin.messages)


def test_the_flood_limits_come_from_the_config_file_and_zero_turns_protection_off() -> None:
    from datetime import timedelta

    from bot.config import parse_config

    bot = parse_config({"bot": {"flood_limit": 0, "flood_window": "5s", "flood_pause": "2m"}}, env={}).bot
    assert (bot.flood_limit, bot.flood_window, bot.flood_pause) == (0, timedelta(seconds=5), timedelta(minutes=2))
    defaults = parse_config({}, env={}).bot
    assert (defaults.flood_limit, defaults.flood_window.total_seconds(), defaults.flood_pause.total_seconds()) == (
        20, 10.0, 60.0)
