"""The confirmation before an order is cancelled: what is lost, and the supervisor's reason."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.models import money, status_name
from tote.v1 import common_pb2

MAX_REASON = 500  # the server refuses a longer reason


class CancelOrderDialog(QDialog):
    """Asks for the reason; "Cancel order" stays disabled until one is typed."""

    def __init__(self, order: common_pb2.Order, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cancel_confirmation")
        self.setWindowTitle("Cancel order")
        self.order_id = order.order_id
        lines = ", ".join(f"{line.quantity}× {line.sku}" for line in order.lines)
        method = order.payment.method or "payment"
        # Say what the server is about to do at the gateway: it cannot be taken back.
        money_note = {"cod": "Nothing was charged (cash on delivery)."}.get(
            method, f"The {method} payment of {money(order.total)} is voided (or refunded, "
            "if captured) at the gateway before the server answers.")
        self.text = QLabel(
            f"<b>Cancel {order.order_id}?</b><br>{status_name(order.status)} · "
            f"{order.customer_id} · {lines} · {money(order.total)}<br><br>{money_note} "
            "Its stock is released. This cannot be undone.")
        self.text.setWordWrap(True)
        self.reason = QLineEdit()
        self.reason.setObjectName("cancel_reason")
        self.reason.setPlaceholderText("Reason (kept on the order, e.g. customer called)")
        self.reason.setMaxLength(MAX_REASON)
        self.buttons = QDialogButtonBox()
        self.confirm_button = self.buttons.addButton(
            "Cancel order", QDialogButtonBox.ButtonRole.AcceptRole)
        self.keep_button = self.buttons.addButton(
            "Keep order", QDialogButtonBox.ButtonRole.RejectRole)
        self.confirm_button.setEnabled(False)
        self.keep_button.setDefault(True)  # Enter in the wrong place keeps the order
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.reason.textChanged.connect(self._reason_changed)

        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(QLabel("Reason"))
        layout.addWidget(self.reason)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)

    def reason_text(self) -> str:
        return self.reason.text().strip()

    @Slot(str)
    def _reason_changed(self, _text: str) -> None:
        ok = bool(self.reason_text())
        self.confirm_button.setEnabled(ok)
        self.confirm_button.setDefault(ok)
        self.keep_button.setDefault(not ok)
