"""Updates of one user are handled in the order they arrived; other users' do not wait for them."""

from __future__ import annotations

import asyncio

from telegram import CallbackQuery, Update, User

from bot.updates import PerUserOrder


def tap(update_id: int, user_id: int) -> Update:
    user = User(user_id, "Rater", is_bot=False)
    return Update(update_id, callback_query=CallbackQuery(str(update_id), user, chat_instance="c", data="x"))


async def test_one_users_updates_run_in_order_while_another_users_run_alongside() -> None:
    processor = PerUserOrder(max_concurrent_updates=8)
    log: list[str] = []
    release_first = asyncio.Event()

    async def handle(name: str, wait_for: asyncio.Event | None = None) -> None:
        log.append(f"start {name}")
        if wait_for is not None:
            await wait_for.wait()
        log.append(f"end {name}")

    async with processor:
        first = asyncio.create_task(processor.process_update(tap(1, 10), handle("a1", release_first)))
        second = asyncio.create_task(processor.process_update(tap(2, 10), handle("a2")))
        other = asyncio.create_task(processor.process_update(tap(3, 20), handle("b1")))
        await asyncio.wait_for(other, 1)  # user 20 is not held up by user 10's slow update
        assert log == ["start a1", "start b1", "end b1"]
        assert processor.users_in_flight == 1
        release_first.set()
        await asyncio.wait_for(asyncio.gather(first, second), 1)
    assert log[3:] == ["end a1", "start a2", "end a2"]
    assert processor.users_in_flight == 0  # nothing kept for users with nothing in flight


async def test_updates_without_a_user_or_chat_are_not_held_up() -> None:
    processor = PerUserOrder(max_concurrent_updates=2)
    done: list[int] = []

    async def handle(n: int) -> None:
        done.append(n)

    async with processor:
        await processor.process_update(object(), handle(1))
        await processor.process_update(Update(5), handle(2))
    assert done == [1, 2]


async def test_a_burst_from_one_user_does_not_hold_up_anyone_else() -> None:
    """Waiting for one's own earlier updates takes no running slot: with 2 slots, a user with 5 queued
    updates (the first one slow) leaves room for another user."""
    processor = PerUserOrder(max_concurrent_updates=2)
    slow = asyncio.Event()
    done: list[str] = []

    async def handle(name: str, wait_for: asyncio.Event | None = None) -> None:
        if wait_for is not None:
            await wait_for.wait()
        done.append(name)

    async with processor:
        burst = [asyncio.create_task(processor.process_update(tap(n, 10), handle(f"a{n}", slow if n == 1 else None)))
                 for n in range(1, 6)]
        other = asyncio.create_task(processor.process_update(tap(9, 20), handle("b")))
        await asyncio.wait_for(other, 1)
        assert done == ["b"]
        slow.set()
        await asyncio.wait_for(asyncio.gather(*burst), 1)
    assert done == ["b", "a1", "a2", "a3", "a4", "a5"]
