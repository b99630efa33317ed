"""The collector's pauses overlap across the loop and worker threads: it comes back only after the last."""

from __future__ import annotations

import gc
import threading

from storage.heap import gc_paused


def test_the_collector_stays_off_until_the_last_overlapping_pause_ends() -> None:
    assert gc.isenabled()
    entered, release = threading.Event(), threading.Event()

    def worker() -> None:
        with gc_paused():
            entered.set()
            release.wait(5)

    thread = threading.Thread(target=worker)
    with gc_paused():
        thread.start()
        entered.wait(5)
    assert not gc.isenabled()  # the first pause ended, the worker's has not
    release.set()
    thread.join(5)
    assert gc.isenabled()


def test_a_pause_inside_a_collector_already_off_leaves_it_off() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
