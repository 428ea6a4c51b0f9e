"""The controller's workers: a blocking call in the thread pool, a stream on its own thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QRunnable

from desktop.client import EventStream


class Job(QRunnable):
    """One blocking call in the thread pool; its outcome comes back as a queued signal."""

    def __init__(self, fn: Callable[[], Any], on_done: Callable[[Any], None],
                 on_failed: Callable[[BaseException], None], done: Any, failed: Any) -> None:
        super().__init__()
        self.fn, self.on_done, self.on_failed = fn, on_done, on_failed
        self.done, self.failed = done, failed

    def run(self) -> None:
        # The controller's slots live in the GUI thread: these connections are queued.
        try:
            result = self.fn()
        except Exception as exc:  # the server's refusal, or the network: reported, not raised
            self.failed.emit(self, exc)
            return
        self.done.emit(self, result)


class Stream:
    """A streaming call read on a daemon thread; cancel() ends it from any thread."""

    def __init__(self) -> None:
        self.stopped = threading.Event()
        self.call: EventStream | None = None
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def start(self, target: Callable[[], None], name: str) -> None:
        self.thread = threading.Thread(target=target, daemon=True, name=name)
        self.thread.start()

    def attach(self, call: EventStream) -> bool:
        with self.lock:
            if self.stopped.is_set():
                call.cancel()
                return False
            self.call = call
            return True

    def cancel(self) -> None:
        with self.lock:
            self.stopped.set()
            if self.call is not None:
                self.call.cancel()
