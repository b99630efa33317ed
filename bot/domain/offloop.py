"""CPU-heavy work on a worker thread, with the event loop kept responsive meanwhile.

A thread that holds the interpreter gives it up only every `sys.getswitchinterval()` (5 ms by default)
when another thread asks for it, and the loop thread asks again after every system call it makes: one
trivial callback with a few of them waited 20–60 ms while a worker scored a 100,000-ballot round. So
while any such work runs the interval is `SWITCH_INTERVAL`. Measured on PostgreSQL (six closes of
100,000 ballots each, 2026-12-07): the loop's longest stall 15–37 ms, median 24, at 5 ms; 9–26 ms,
median 14, at 0.5 ms, the close no slower. The old interval comes back when the last such work ends.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from storage.heap import Overlapping

P = ParamSpec("P")
T = TypeVar("T")

SWITCH_INTERVAL = 0.0005


def _switch_fast() -> float:
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(SWITCH_INTERVAL, before))
    return before


_fast_switching = Overlapping(_switch_fast, sys.setswitchinterval)


async def off_loop(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)` on a worker thread (as `asyncio.to_thread`), the interpreter handed back to
    the loop every `SWITCH_INTERVAL` meanwhile."""
    with _fast_switching.held():
        return await asyncio.to_thread(fn, *args, **kwargs)
