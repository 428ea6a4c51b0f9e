"""cProfile for a bench's `tote serve` replica (bench/saga_pg.py with TOTE_BENCH_PROFILE set).

Python imports `sitecustomize` at start-up from the path; bench/saga_pg.py puts this folder on
PYTHONPATH of the replicas it profiles and TOTE_BENCH_PROFILE names the file to write. Every
thread (the event loop's and the database pool's) gets its own profiler, timing CPU, and at
exit their figures go into the one file (pstats; read it with `python -m pstats FILE`). py-spy
cannot attach on this machine; this is the way to see what a replica spends its CPU on.
"""

from __future__ import annotations

import atexit
import cProfile
import os
import pstats
import threading
import time

_OUT = os.environ.get("TOTE_BENCH_PROFILE")
_PROFILES: list[cProfile.Profile] = []
_LOCK = threading.Lock()


def _new_profile() -> cProfile.Profile:
    # CPU time of the thread, not wall time: a thread waiting on the database or a queue
    # costs nothing, and that is what the bench asks (what the CPU is spent on).
    prof = cProfile.Profile(time.thread_time)
    with _LOCK:
        _PROFILES.append(prof)
    return prof


def _thread_start(*_args: object) -> None:
    # The first profile event of a new thread: hand the thread to its own cProfile.
    _new_profile().enable()


def _dump() -> None:
    assert _OUT is not None
    with _LOCK:
        profiles = list(_PROFILES)
    for p in profiles:
        p.disable()
    stats: pstats.Stats | None = None
    for p in profiles:
        try:
            stats = pstats.Stats(p) if stats is None else stats.add(p)
        except TypeError:  # a profile that saw nothing
            continue
    if stats is not None:
        stats.dump_stats(_OUT)


if _OUT:
    threading.setprofile(_thread_start)
    _new_profile().enable()
    atexit.register(_dump)
