"""Heavy work off the loop: the interpreter is handed back to the loop often while it runs, and the
process's own setting comes back when the last such work ends — also when it fails."""

from __future__ import annotations

import asyncio
import sys
import threading

import pytest

from bot.domain.offloop import SWITCH_INTERVAL, off_loop


async def test_work_runs_on_a_worker_with_a_short_switch_interval_and_the_old_one_comes_back() -> None:
    before = sys.getswitchinterval()
    seen = await off_loop(lambda n: (n * 2, sys.getswitchinterval(), threading.current_thread()), 21)
    assert seen[0] == 42 and seen[1] == SWITCH_INTERVAL < before
    assert seen[2] is not threading.main_thread()
    assert sys.getswitchinterval() == before


async def test_overlapping_work_keeps_the_short_interval_until_the_last_one_ends() -> None:
    before = sys.getswitchinterval()
    release = threading.Event()
    slow = asyncio.create_task(off_loop(release.wait, 5))
    await asyncio.sleep(0.05)
    assert await off_loop(sys.getswitchinterval) == SWITCH_INTERVAL
    assert sys.getswitchinterval() == SWITCH_INTERVAL  # the slow one still runs
    release.set()
    assert await slow is True
    assert sys.getswitchinterval() == before


async def test_a_failure_propagates_and_still_restores_the_interval() -> None:
    before = sys.getswitchinterval()

    def boom() -> None:
        raise ValueError("bad rows")

    with pytest.raises(ValueError, match="bad rows"):
        await off_loop(boom)
    assert sys.getswitchinterval() == before
