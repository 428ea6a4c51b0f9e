"""One order's detail: payment, routing explanation, the timeline of its events and of what
the customer was sent; Assign and Cancel."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.charges import lines_shipping, total_text
from desktop.models import RoutingModel, money, status_name
from desktop.notification_models import TimelineModel, interleave, status_key
from desktop.tables import table
from tote.v1 import common_pb2

# The server reassigns an order only while it is PROCESSING (before picking starts).
ASSIGNABLE = {common_pb2.ORDER_STATUS_PROCESSING}
# CancelOrder is allowed before PACKED (and refused while a parcel is being packed).
CANCELLABLE = {common_pb2.ORDER_STATUS_PENDING, common_pb2.ORDER_STATUS_PROCESSING,
               common_pb2.ORDER_STATUS_PICKING}


def routing_sentence(fc_id: str, reason: str) -> str:
    """Routing's choice said once: 'Ships from FC-BLR because it is nearer (…)'.

    The winner's reason reads "chosen because …; FC-BLR: has every line; …": the FC's own
    description after its id is in its row of the table below, so the sentence stops there.
    """
    if not fc_id:
        return "Not routed yet"
    parts = reason.split("; ")
    own = next((i for i, p in enumerate(parts) if p.startswith(f"{fc_id}: ")), len(parts))
    why = "; ".join(parts[:own])
    if why.startswith("chosen because "):
        return f"Ships from {fc_id} because {why.removeprefix('chosen because ')}"
    why = why.removeprefix("chosen: ")
    return f"Ships from {fc_id}: {why}" if why else f"Ships from {fc_id}"


class OrderDetail(QWidget):
    """An order's payment state, routing explanation, event timeline, and Assign."""

    assign_requested = Signal(str, str)  # order_id, fc_id (before confirmation)
    cancel_requested = Signal(str)  # order_id (before confirmation)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.order: common_pb2.Order | None = None
        self.title = QLabel("Select an order")
        self.title.setStyleSheet("font-weight: bold; font-size: 14px")
        self.summary = QLabel("")
        self.total = QLabel("")  # what is charged now (less what short picks cancelled)
        self.payment = QLabel("")
        # Long lines wrap: unwrapped, an order's text would widen the window past the screen.
        self.cancelled = QLabel("")  # why it was cancelled (the order's cancel_reason)
        for label in (self.title, self.summary, self.total, self.payment, self.cancelled):
            label.setWordWrap(True)
        # An order of many lines wraps: room for two lines, or the tables squeeze it unreadable.
        self.summary.setMinimumHeight(self.summary.fontMetrics().lineSpacing() * 2)
        self.routing_note = QLabel("")
        self.routing_note.setWordWrap(True)
        # A wrapped label is squeezed by the tables under it unless it asks for its lines.
        self.routing_note.setMinimumHeight(self.routing_note.fontMetrics().lineSpacing() * 4)
        # What the customer was sent is on the timeline, under the event it tells about: the
        # story a supervisor reads to a customer on the phone ("shipped at 14:02, and the
        # email went to a****@example.com at 14:02"), and no second table to fit on screen.
        self.events = TimelineModel(self)
        self._events: list[common_pb2.OrderEvent] = []
        self._messages: list[Any] = []  # ListMessages' last answer
        self.routing = RoutingModel(self)
        self.events_view = table(self.events)
        self.timeline_title = QLabel("Event timeline")
        # One line that may be cut at a narrow width (the whole of it in the tooltip): wrapped,
        # it would take the room of a timeline row on an 800×600 screen.
        self.timeline_title.setSizePolicy(QSizePolicy.Policy.Ignored,
                                          QSizePolicy.Policy.Preferred)
        self.routing_view = table(self.routing)
        header = self.routing_view.horizontalHeader()
        header.setSectionResizeMode(RoutingModel.COL_FACTORS, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(RoutingModel.COL_FACTORS, 300)
        self.fc_box = QComboBox()
        self.fc_box.setMinimumWidth(120)
        self._fc_chosen = False  # the supervisor picked an FC for this order
        self.fc_box.activated.connect(self._fc_activated)
        self.assign_button = QPushButton("Assign to FC…")
        self.assign_button.setEnabled(False)
        self.assign_button.clicked.connect(self._assign_clicked)
        self.cancel_button = QPushButton("Cancel order…")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self._cancel_clicked)
        self.cancelling = False  # CancelOrder in flight for this order
        self.cancel_note = QLabel("")

        form = QFormLayout()
        form.addRow("Order", self.summary)
        form.addRow("Total", self.total)
        form.addRow("Payment", self.payment)
        assign_row = QHBoxLayout()
        assign_row.addWidget(self.fc_box)
        assign_row.addWidget(self.assign_button)
        assign_row.addStretch(1)
        form.addRow("Fulfil from", assign_row)
        # A row of its own: beside the title (an order id is one long word) or the Assign
        # button, the pane would no longer fit an 800 px window.
        cancel_row = QHBoxLayout()
        cancel_row.addWidget(self.cancel_button)
        cancel_row.addWidget(self.cancel_note, 1)
        form.addRow("", cancel_row)
        form.addRow("Cancelled", self.cancelled)
        self.form = form
        form.setRowVisible(self.cancelled, False)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(form)
        layout.addWidget(QLabel("Routing: how each fulfillment center scored"))
        layout.addWidget(self.routing_note)
        layout.addWidget(self.routing_view, 2)
        layout.addWidget(self.timeline_title)
        layout.addWidget(self.events_view, 3)

    def set_fcs(self, fc_ids: list[str]) -> None:
        current = self.fc_box.currentText()
        self.fc_box.clear()
        self.fc_box.addItems(fc_ids)
        # Keep the supervisor's choice; else start from where the order is now.
        if self.order is not None and not self._fc_chosen and self.order.fc_id in fc_ids:
            self.fc_box.setCurrentText(self.order.fc_id)
        elif current in fc_ids:
            self.fc_box.setCurrentText(current)

    def show_order(self, order: common_pb2.Order, new: bool) -> None:
        self.order = order
        if new:
            self._fc_chosen = False
            self.cancelling = False
            self._events, self._messages = [], []
            self.events.set_rows([])
            self._title_timeline("Event timeline")
            self.routing.set_rows([])
            self.routing_note.setText("")
        self.title.setText(f"{order.order_id} — {status_name(order.status)}")
        self.cancelled.setText(order.cancel_reason)
        self.form.setRowVisible(self.cancelled, bool(order.cancel_reason))
        # CancelOrder answers after the gateway has voided or refunded: that can take a while.
        self.cancel_note.setText("Cancelling — voiding the payment first…"
                                 if self.cancelling else "")
        self.total.setText(total_text(order))
        self.summary.setText(f"{order.customer_id} · {lines_shipping(order)} · "
                             f"FC {order.fc_id or '—'}"
                             + (f" · {order.carrier} {order.tracking_number}"
                                if order.tracking_number else ""))
        p = order.payment
        self.payment.setText(f"{p.method} — {p.state} (authorized {money(p.authorized)}"
                             f", captured {money(p.captured) or '0'})")
        self.assign_button.setEnabled(order.status in ASSIGNABLE and not self.cancelling)
        self.cancel_button.setEnabled(self.can_cancel())
        self.cancel_button.setToolTip(
            "Cancel the order: the payment is voided or refunded, the stock released"
            if order.status in CANCELLABLE else "Only an order not yet packed can be cancelled")
        if order.fc_id and new and self.fc_box.findText(order.fc_id) >= 0:
            self.fc_box.setCurrentText(order.fc_id)

    def can_cancel(self) -> bool:
        return (self.order is not None and self.order.status in CANCELLABLE
                and not self.cancelling)

    def set_cancelling(self, cancelling: bool) -> None:
        self.cancelling = cancelling
        if self.order is not None:
            self.show_order(self.order, new=False)

    def add_event(self, event: common_pb2.OrderEvent) -> None:
        if event.event_id not in {e.event_id for e in self._events}:
            self._events.append(event)
            self.events.set_rows(interleave(self._events, self._messages))

    def show_messages(self, messages: list[Any]) -> None:
        """ListMessages' answer: every message of the order, oldest first."""
        self._messages = list(messages)
        self.events.set_rows(interleave(self._events, self._messages))
        if not messages:
            self._title_timeline("Event timeline · nothing sent to the customer yet")
            return
        counts: dict[str, int] = {}
        for m in messages:
            key = status_key(m)
            key = "on the way" if key in ("queued", "sending", "retrying") else key
            counts[key] = counts.get(key, 0) + 1
        said = ", ".join(f"{counts[k]} {k}" for k in ("sent", "on the way", "dead", "skipped")
                         if k in counts)
        self._title_timeline(f"Event timeline · customer messages: {said}"
                             + (" (see Dead letters)" if "dead" in counts else ""))

    def show_messages_refused(self, message: str, denied: bool) -> None:
        self._messages = []
        self.events.set_rows(interleave(self._events, self._messages))
        self._title_timeline(
            "Event timeline · customer messages not shown: not for this console's token"
            if denied else f"Event timeline · customer messages not read: {message}",
            tooltip=message)  # the server's own words

    def _title_timeline(self, text: str, tooltip: str = "") -> None:
        self.timeline_title.setText(text)
        self.timeline_title.setToolTip(tooltip or text)

    def messages_pending(self) -> bool:
        """A message still queued, being sent or retried: its outcome is worth reading again."""
        return any(status_key(m) in ("queued", "sending", "retrying") for m in self._messages)

    def show_routing(self, decision: Any) -> None:
        self.routing.chosen_fc_id = decision.chosen_fc_id
        self.routing.set_rows(sorted(decision.candidates, key=lambda c: -c.score))
        winner = next((c for c in decision.candidates if c.fc_id == decision.chosen_fc_id), None)
        self.routing_note.setText(routing_sentence(decision.chosen_fc_id,
                                                   winner.reason if winner is not None else ""))

    @Slot(int)
    def _fc_activated(self, _index: int) -> None:
        self._fc_chosen = True

    @Slot()
    def _cancel_clicked(self) -> None:
        if self.order is not None and self.can_cancel():
            self.cancel_requested.emit(self.order.order_id)

    @Slot()
    def _assign_clicked(self) -> None:
        if self.order is not None and self.fc_box.currentText():
            self.assign_requested.emit(self.order.order_id, self.fc_box.currentText())
