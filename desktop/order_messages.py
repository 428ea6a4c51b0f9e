"""Keeps the shown order's customer messages current on its timeline (ListMessages, through
the controller)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QWidget

from desktop.controller import ConsoleController
from desktop.order_detail import OrderDetail

# A message's status changes with no order event (sent, retried, dead): the shown order's
# messages are read again this often while one is on its way, and a few times after an event
# (the messages it causes are queued by a consumer shortly after it).
MESSAGES_POLL_MS = 2000
RELOADS_AFTER_EVENT = 3


class OrderMessages(QObject):
    """Reads the messages of the order a detail shows: on selection, after its events, and
    while one is on its way; one call in flight."""

    def __init__(self, controller: ConsoleController, detail: OrderDetail,
                 view: QWidget) -> None:
        super().__init__(view)
        self.controller, self.detail, self.view = controller, detail, view
        self._loading = ""  # the order whose ListMessages is in flight
        self._reloads = 0  # reads still due after the shown order's last event
        controller.messages_loaded.connect(self.on_messages)
        controller.messages_refused.connect(self.on_refused)
        self._timer = QTimer(self, interval=MESSAGES_POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._timer.start()

    def order_selected(self) -> None:
        self._loading, self._reloads = "", 0
        self.load()

    def event_arrived(self) -> None:
        """An event of the shown order: the messages it causes are read soon."""
        self._reloads = RELOADS_AFTER_EVENT

    def load(self) -> None:
        """ListMessages for the shown order (one call in flight)."""
        if self.detail.order is None or self._loading:
            return
        self._loading = self.detail.order.order_id
        self.controller.load_messages(self._loading)

    @Slot()
    def _poll(self) -> None:
        if not self.view.isVisible() or self.detail.order is None:
            return
        if self._reloads > 0 or self.detail.messages_pending():
            self._reloads = max(self._reloads - 1, 0)
            self.load()

    def _shown(self, order_id: str) -> bool:
        if order_id == self._loading:
            self._loading = ""
        return self.detail.order is not None and self.detail.order.order_id == order_id

    @Slot(str, list)
    def on_messages(self, order_id: str, messages: list[Any]) -> None:
        if self._shown(order_id):
            self.detail.show_messages(messages)

    @Slot(str, str, bool)
    def on_refused(self, order_id: str, message: str, denied: bool) -> None:
        if self._shown(order_id):
            self.detail.show_messages_refused(message, denied)
