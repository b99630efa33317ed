"""The loop monitor the bench's bots report their stalls with: a stall the loop causes is counted
whether or not the time the thread waited for a CPU is left out (`less_cpu_wait`, for bots sharing a CPU)."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from bot.bench.loop import LoopMonitor, _cpu_wait_reader


async def test_a_callback_that_holds_the_loop_is_the_longest_stall() -> None:
    with LoopMonitor() as wall, LoopMonitor(less_cpu_wait=True) as own:
        await asyncio.sleep(0.05)
        waited = _cpu_wait_reader()
        wait_before = waited() if waited else 0.0
        busy_until = time.perf_counter() + 0.08
        while time.perf_counter() < busy_until:  # the loop's own work: CPU, no yielding
            pass
        wait = (waited() - wait_before) if waited else 0.0
        await asyncio.sleep(0.05)
    assert wall.longest >= 0.075 and wall.samples >= 5
    # the 80 ms less whatever part of them another process had the CPU (a loaded machine preempts)
    assert own.longest >= 0.075 - wait


async def sharing_a_cpu_with_a_hog() -> tuple[float, float]:
    """A second of a busy loop that yields at once, pinned to one CPU with another busy process: the
    longest stall (wall clock, less the CPU wait) its monitors saw."""
    cpu = min(os.sched_getaffinity(0))
    before = os.sched_getaffinity(0)
    hog = await asyncio.create_subprocess_exec("python3", "-c", "while True: pass")
    try:
        os.sched_setaffinity(hog.pid, {cpu})
        os.sched_setaffinity(0, {cpu})
        with LoopMonitor() as wall, LoopMonitor(less_cpu_wait=True) as own:
            deadline = time.perf_counter() + 1.0
            while time.perf_counter() < deadline:
                await asyncio.sleep(0)  # its own stalls are tiny
    finally:
        os.sched_setaffinity(0, before)
        hog.kill()
        await hog.wait()
    return wall.longest, own.longest


@pytest.mark.skipif(not os.path.exists("/proc/thread-self/schedstat"), reason="Linux's schedstat only")
async def test_time_the_thread_waited_for_a_cpu_is_left_out() -> None:
    """The other process's turns are stalls to the wall clock (5–11 ms here), not to the monitor that
    leaves out the wait: it sees timer slack (0–0.5 ms). Now and then a stray few ms land in one second
    (5.07 ms once in CI: an interrupt, a turn accounted late), so the second is measured up to three
    times; a monitor that kept the other's turns would fail all three."""
    seen: list[tuple[float, float]] = []
    while len(seen) < 3 and not any(own < 0.005 and own < wall / 2 for wall, own in seen):
        seen.append(await sharing_a_cpu_with_a_hog())
    assert any(own < 0.005 and own < wall / 2 for wall, own in seen), seen
