"""The event loop's longest stall, measured from inside the loop (the bots' processes and the bench's).

Its own module, importing nothing else of the bench: a bot process of the bench loads it, and its
idle footprint is measured (`bot.bench.memory`).
"""

from __future__ import annotations

import asyncio
import time


class LoopMonitor:
    """Sleeps `interval` over and over and records how late each wake-up was: the loop's stalls."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.longest = 0.0
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.longest = max(self.longest, time.perf_counter() - before - self.interval)
            self.samples += 1

    def __enter__(self) -> LoopMonitor:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
