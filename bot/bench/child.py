"""The bots the bench measures, each in a process of its own, as a deployed bot runs.

`python -m bot.bench.child SPEC` runs one: ours (the real Application on the bench database), the
floor (`bot.bench.floor`), or a campaign's bot (ours sending invitations, until it is killed). Ours
and the floor answer on stdin/stdout: each "status" line gets one line of JSON (memory; since the last
"reset" the loop's longest stall and the CPU time; the handler errors), "reset" also starts the
profiler, "lap" answers as "status" and then resets, and "quit" (or end of input) stops the bot.
`ChildBot` is the bench's side of that talk.
A spec's "cpus" pins the whole process to those CPUs (the throughput bench puts both bots on one).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import resource
import subprocess
import sys
import time
from contextlib import AbstractAsyncContextManager, suppress
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.app import build_application
from bot.bench.fixtures import bench_config
from bot.bench.floor import floor_application, polling
from bot.bench.loop import LoopMonitor
from bot.domain.clock import SystemClock
from bot.domain.runtime import Runtime
from bot.runner import running
from storage.db import Database
from storage.heap import freeze_startup_heap


def spawn(spec: dict[str, Any], *, talk: bool = True) -> subprocess.Popen[str]:
    pipe = subprocess.PIPE if talk else None
    return subprocess.Popen([sys.executable, "-m", "bot.bench.child", json.dumps(spec)], stdin=pipe, stdout=pipe,
                            text=True)


class ChildBot:
    """A bot process of the bench that answers "status"."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.proc = spawn(spec)

    async def status(self, command: str | None = "status") -> dict[str, Any]:
        """Sends `command` (None: nothing, the line printed once the bot is up) and reads its answer."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if command:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        line = await asyncio.get_running_loop().run_in_executor(None, self.proc.stdout.readline)
        if not line:
            raise RuntimeError("the bench's bot process exited")
        status: dict[str, Any] = json.loads(line)
        return status

    async def stop(self) -> None:
        """Asks the bot to stop; waits off the loop, which must keep serving its last API calls."""
        with suppress(OSError, ValueError):
            assert self.proc.stdin is not None
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        try:
            await asyncio.get_running_loop().run_in_executor(None, lambda: self.proc.wait(timeout=60))
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _proc_status() -> dict[str, int]:
    """VmRSS and VmHWM (peak) of this process, in KiB."""
    out: dict[str, int] = {}
    with suppress(OSError), open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1])
    if "VmHWM" not in out:  # not Linux: ru_maxrss is the peak (KiB on Linux, bytes on macOS)
        out["VmHWM"] = out["VmRSS"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return out


def _profiler(path: str | None) -> Any:
    if not path:
        return None
    if path.endswith(".pstats"):
        import cProfile

        deterministic = cProfile.Profile()
        deterministic.enable()
        return deterministic
    from pyinstrument import Profiler

    sampling = Profiler(interval=0.0005, async_mode="disabled")
    sampling.start()
    return sampling


def _finish_profile(profiler: Any, path: str | None) -> None:
    if profiler is None or path is None:
        return
    if path.endswith(".pstats"):
        profiler.disable()
        profiler.dump_stats(path)
        return
    profiler.stop()
    Path(path).write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")


async def _child_bot(spec: dict[str, Any]) -> None:
    """Runs the bot of `spec["kind"]` until told to quit (ours, the floor) or killed (a campaign's)."""
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    kind, url = spec["kind"], spec.get("database_url", "")
    db = await Database.open(url, migrate=False) if kind != "floor" else None
    errors: list[BaseException] = []

    async def record(_update: object, context: Any) -> None:
        errors.append(context.error)

    started: AbstractAsyncContextManager[Any]
    if db is None:
        app: Any = floor_application(spec["token"], spec["base_url"])
        started = polling(app)
    else:
        options: dict[str, Any] = {key: spec[key] for key in ("send_rate", "quota") if key in spec}
        if "tick" in spec:
            options["tick"] = timedelta(seconds=spec["tick"])
        config = bench_config(url, spec["token"], spec["base_url"], **options)
        app = build_application(Runtime(db, config, SystemClock()))
        started = running(app, poll_timeout=1)
    app.add_error_handler(record)  # besides our own error handler: the bench counts what reached it
    try:
        async with started:
            if kind == "campaign":
                await asyncio.Event().wait()  # until the bench kills this process
            await _answer(spec.get("profile"), errors, shared_cpu="cpus" in spec)
    finally:
        if db is not None:
            await db.close()


async def _answer(profile: str | None, errors: list[BaseException], *, shared_cpu: bool = False) -> None:
    """The stdin/stdout talk of ours and the floor, with the loop monitored (on a `shared_cpu`, less the
    other process's turns) and the heap frozen."""
    loop = asyncio.get_running_loop()
    profiler, cpu = None, time.process_time()

    def status(monitor: LoopMonitor) -> str:
        return json.dumps(_proc_status() | {
            "stall_ms": round(monitor.longest * 1000, 2), "cpu_seconds": round(time.process_time() - cpu, 3),
            "errors": len(errors), "error_samples": [repr(e) for e in errors[:5]]})

    freeze_startup_heap()  # as `bot.runner.serve` does once the bot is up
    with LoopMonitor(less_cpu_wait=shared_cpu) as monitor:
        print(status(monitor), flush=True)
        while (command := (await loop.run_in_executor(None, sys.stdin.readline)).strip()) not in ("", "quit"):
            if command == "lap":  # the status since the last reset, and a reset: one window ends, the next begins
                print(status(monitor), flush=True)
            if command in ("reset", "lap"):
                monitor.longest, cpu = 0.0, time.process_time()
                profiler = profiler or _profiler(profile)
            if command != "lap":
                print(status(monitor), flush=True)
        _finish_profile(profiler, profile)


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    if "cpus" in spec:  # before any thread starts: every thread of the process inherits it
        os.sched_setaffinity(0, spec["cpus"])
    asyncio.run(_child_bot(spec))
