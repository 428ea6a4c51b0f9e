"""Customer messages as the console shows them: recipients masked, statuses in words. Models
never call gRPC."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from desktop.models import EventsModel, Index, _RowsModel, timestamp
from tote.v1 import notifications_pb2

Message = notifications_pb2.NotificationMessage

# The event each message tells the customer about, in the words a supervisor says on a call.
KIND_WORDS = {
    "Order_Ready_for_Fulfillment": "Order confirmed",
    "Order_Shipped": "Shipped",
    "Order_Out_for_Delivery": "Out for delivery",
    "Order_Delivered": "Delivered",
    "Order_Cancelled": "Cancelled",
    "Payment_Refunded": "Refunded",
}
CHANNEL_WORDS = {"email": "Email", "sms": "SMS"}
# Row colours by status: a dead letter stands out, a retry is a warning.
STATUS_COLOURS = {"dead": "#f8d7da", "retrying": "#fff3cd"}
MESSAGE_COLOUR = "#eef4fb"  # a message's row on the order's timeline, apart from the events


def kind_text(event_type: str) -> str:
    return KIND_WORDS.get(event_type, event_type.replace("_", " "))


def mask_recipient(recipient: str) -> str:
    """Enough to confirm with the customer, not enough to copy: a****@example.com,
    +91******3210."""
    if "@" in recipient:
        local, _, domain = recipient.rpartition("@")
        return f"{local[:1]}****@{domain}"
    if len(recipient) <= 7:  # too short to show both ends: the last two digits only
        return "*" * max(len(recipient) - 2, 0) + recipient[-2:]
    # E.164: the country code (up to 3 characters with the +) and the last four digits.
    return recipient[:3] + "*" * (len(recipient) - 7) + recipient[-4:]


def status_key(m: Any) -> str:
    """queued, sending, sent, retrying (queued again after a failed attempt), dead, skipped."""
    if m.status == "queued" and m.attempts > 0:
        return "retrying"
    return str(m.status)


def status_text(m: Any) -> str:
    """The status with its attempts: 'dead after 3 attempts', 'retrying (1 attempt failed)'."""
    key = status_key(m)
    tries = f"{m.attempts} attempt{'' if m.attempts == 1 else 's'}"
    if key == "retrying":
        return f"retrying ({tries} failed)"
    if key == "dead":
        return f"dead after {tries}"
    if key == "sent" and m.attempts > 1:
        return f"sent (on attempt {m.attempts})"
    if key == "skipped":
        return "skipped (customer opted out)"
    return key


def when(m: Any) -> str:
    """When it went (sent), or when it was queued."""
    return timestamp(m.sent_at) if m.sent_at.seconds else timestamp(m.created_at)


def detail_text(m: Any) -> str:
    """Why it failed, or when it is tried next, or what was sent (an email's subject)."""
    key = status_key(m)
    if key in ("retrying", "dead"):
        error = m.last_error or "no reason recorded"
        return f"{error} — next try {timestamp(m.due_at)}" if key == "retrying" else error
    if key == "sent":
        return m.subject or m.body
    return m.last_error


class _MessagesModel(_RowsModel):
    def key(self, row: Any) -> str:
        return str(row.message_id)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.BackgroundRole and index.isValid()
                and index.row() < len(self._rows)):
            colour = STATUS_COLOURS.get(status_key(self._rows[index.row()]))
            return QBrush(QColor(colour)) if colour else None
        return super().data(index, role)


def interleave(events: list[Any], messages: list[Any]) -> list[Any]:
    """The order's events, each followed by the messages it caused (in ListMessages' order);
    messages of an event not on the timeline yet come last."""
    caused: dict[str, list[Any]] = {}
    for m in messages:
        caused.setdefault(m.event_id, []).append(m)
    rows: list[Any] = []
    for e in events:
        rows.append(e)
        rows.extend(caused.pop(e.event_id, []))
    return rows + [m for ms in caused.values() for m in ms]


class TimelineModel(EventsModel):
    """The order's events and, under each, what the customer was sent about it (kind, channel,
    masked recipient, status with attempts, when): the story a supervisor reads on a call."""

    def key(self, row: Any) -> str:
        return str(row.message_id if isinstance(row, Message) else row.event_id)

    def cell(self, row: Any, column: int) -> Any:
        if not isinstance(row, Message):
            return super().cell(row, column)
        to = mask_recipient(row.recipient)
        what = detail_text(row)
        return (when(row), f"↳ {CHANNEL_WORDS.get(row.channel, row.channel)} to customer",
                status_text(row),
                f"{kind_text(row.event_type)} to {to}" + (f": {what}" if what else ""))[column]

    def messages(self) -> list[Any]:
        return [r for r in self._rows if isinstance(r, Message)]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.BackgroundRole and index.isValid()
                and index.row() < len(self._rows)
                and isinstance(row := self._rows[index.row()], Message)):
            return QBrush(QColor(STATUS_COLOURS.get(status_key(row), MESSAGE_COLOUR)))
        return super().data(index, role)


class DeadLettersModel(_MessagesModel):
    """Messages that failed every attempt (ListDeadLetters), newest first; a resent one stays
    listed as it died, marked resent, until the list is loaded again."""

    COL_ORDER, COL_KIND, COL_CHANNEL, COL_TO, COL_ATTEMPTS, COL_STATUS, COL_QUEUED, \
        COL_WHY = range(8)
    HEADERS = ("Order", "Message", "Channel", "To", "Attempts", "Status", "First queued",
               "Why it failed")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.resent: set[str] = set()  # queued again from this list

    def set_rows(self, rows: Any) -> None:
        self.resent.clear()  # a fresh list says what is dead now
        super().set_rows(rows)

    def cell(self, m: Any, column: int) -> Any:
        status = "queued again (resent)" if m.message_id in self.resent else status_text(m)
        return (m.order_id, kind_text(m.event_type), CHANNEL_WORDS.get(m.channel, m.channel),
                mask_recipient(m.recipient), m.attempts, status, timestamp(m.created_at),
                m.last_error or "no reason recorded")[column]

    def resendable(self, m: Any) -> bool:
        return status_key(m) == "dead" and m.message_id not in self.resent

    def mark_resent(self, message_id: str) -> None:
        """Resend's answer: the row keeps the attempts and the failure it died of."""
        row = self.find(message_id)
        if row >= 0:
            self.resent.add(message_id)
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.HEADERS) - 1))
