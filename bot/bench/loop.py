"""The event loop's longest stall, measured from inside the loop (the bots' processes and the bench's).

Its own module, importing nothing else of the bench: a bot process of the bench loads it, and its
idle footprint is measured (`bot.bench.memory`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class LoopMonitor:
    """Sleeps `interval` over and over and records how late each wake-up was: the loop's stalls.

    With `less_cpu_wait`, each lateness is less the time the loop's thread spent runnable but waiting
    for a CPU (Linux's /proc/thread-self/schedstat): on a CPU shared with another busy process (the
    throughput bench pins both bots to one), the scheduler's turns for the other process are not the
    loop's stalls. Waiting for the interpreter's lock still counts (the thread sleeps on it). Where the
    file is missing, wall time."""

    def __init__(self, interval: float = 0.005, *, less_cpu_wait: bool = False) -> None:
        self.interval = interval
        self.less_cpu_wait = less_cpu_wait
        self.longest = 0.0
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        waited = _cpu_wait_reader() if self.less_cpu_wait else None
        while True:
            before, wait_before = time.perf_counter(), waited() if waited else 0.0
            await asyncio.sleep(self.interval)
            late = time.perf_counter() - before - self.interval - ((waited() - wait_before) if waited else 0.0)
            self.longest = max(self.longest, late)
            self.samples += 1

    def __enter__(self) -> LoopMonitor:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


def _cpu_wait_reader() -> Callable[[], float] | None:
    """A function giving the seconds this thread has waited on a run queue so far, or None off Linux."""
    try:
        stat = open("/proc/thread-self/schedstat", "rb")  # noqa: SIM115 - held open for the thread's life
    except OSError:
        return None

    def waited() -> float:
        stat.seek(0)
        return int(stat.read().split()[1]) / 1e9

    return waited
