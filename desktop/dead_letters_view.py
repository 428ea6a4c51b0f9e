"""Dead letters: customer messages that failed every attempt, why, and Resend (supervisors)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.controller import ConsoleController
from desktop.notification_models import DeadLettersModel, kind_text, mask_recipient
from desktop.tables import table

# ListDeadLetters answers the newest 200 at most and has no next page.
SERVER_CAP = 200
OK_STYLE, REFUSED_STYLE = "color: #1e7e34", "color: #b02a37"


class DeadLettersView(QWidget):
    """The dead letters, newest first; Resend queues the selected one again."""

    def __init__(self, controller: ConsoleController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.denied = False  # the token's role may not list dead letters
        self.model = DeadLettersModel(self)
        self.table = table(self.model)
        self.table.setObjectName("dead_letters")
        self.note = QLabel("Not loaded yet")
        self.note.setWordWrap(True)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.load)
        self.resend_button = QPushButton("Resend")
        self.resend_button.setEnabled(False)
        self.resend_button.clicked.connect(self._resend_clicked)
        self.answer = QLabel("")  # Resend's answer, or the server's refusal
        self.answer.setObjectName("resend_answer")
        self.answer.setWordWrap(True)
        # The server's refusal can take two lines: room for them, or a row squeezes them.
        self.answer.setMinimumHeight(self.answer.fontMetrics().lineSpacing() * 2)
        self._resending: set[str] = set()

        # The note has a row of its own: wrapped beside a button, its lines were clipped.
        bottom = QHBoxLayout()
        bottom.addWidget(self.resend_button)
        bottom.addWidget(self.answer, 1)
        bottom.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)

        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._sync())
        controller.dead_letters_loaded.connect(self.on_loaded)
        controller.dead_letters_refused.connect(self.on_refused)
        controller.resent.connect(self.on_resent)
        controller.resend_refused.connect(self.on_resend_refused)

    @Slot()
    def load(self) -> None:
        self.controller.load_dead_letters()

    def selected(self) -> Any:
        index = self.table.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def select_message(self, message_id: str) -> bool:
        row = self.model.find(message_id)
        if row >= 0:
            self.table.selectRow(row)
        return row >= 0

    def _sync(self) -> None:
        m = self.selected()
        dead = m is not None and self.model.resendable(m)
        self.resend_button.setEnabled(dead and not self.denied
                                      and m.message_id not in self._resending)
        self.resend_button.setToolTip(
            "Only a supervisor may resend a dead letter" if self.denied else
            "Queue it again, due now, with a fresh schedule of attempts" if dead else
            "Select a dead letter" if m is None else "Already queued again")

    @Slot(list)
    def on_loaded(self, messages: list[Any]) -> None:
        self.denied = False
        self.note.setToolTip("")
        self.table.setEnabled(True)
        self.refresh_button.setEnabled(True)
        self.model.set_rows(messages)
        n = len(messages)
        if not n:
            self.note.setText("No dead letters: every customer message was delivered or is "
                              "still being tried.")
        elif n >= SERVER_CAP:
            self.note.setText(f"The newest {n} dead letters (the server lists no more at "
                              "once): resend these, then Refresh for older ones.")
        else:
            self.note.setText(f"{n} dead letter{'' if n == 1 else 's'}, newest first: each "
                              "failed every attempt. Resend queues one again.")
        self._sync()

    @Slot(str, bool)
    def on_refused(self, message: str, denied: bool) -> None:
        if denied:
            self.denied = True
            self.model.set_rows([])
            self.table.setEnabled(False)
            self.note.setText("Dead letters are for supervisors: this console's token may "
                              "not list or resend them. Open the console with a supervisor "
                              "token to see them.")
        else:
            self.note.setText(f"Dead letters could not be read: {message}")
        self.note.setToolTip(message)  # the server's own words
        self._sync()

    @Slot()
    def _resend_clicked(self) -> None:
        m = self.selected()
        if m is None:
            return
        self._resending.add(m.message_id)
        self.answer.setStyleSheet("")
        self.answer.setText(f"Resending {self._name(m)}…")
        self._sync()
        self.controller.resend(m.message_id)

    @Slot(object)
    def on_resent(self, message: Any) -> None:
        self._resending.discard(message.message_id)
        self.model.mark_resent(message.message_id)
        self.answer.setStyleSheet(OK_STYLE)
        self.answer.setText(f"Resent: {self._name(message)} is queued again; the sender "
                            "tries it now.")
        self._sync()

    @Slot(str, str, bool)
    def on_resend_refused(self, message_id: str, message: str, denied: bool) -> None:
        self._resending.discard(message_id)
        row = self.model.find(message_id)
        name = self._name(self.model.row_at(row)) if row >= 0 else message_id
        self.answer.setStyleSheet(REFUSED_STYLE)
        self.answer.setText(f"Not resent — the server refused {name}: {message}")
        if denied:
            self.denied = True
        else:  # the list was older than the server's (resent or sent since): read it again
            self.load()
        self._sync()

    @staticmethod
    def _name(m: Any) -> str:
        return (f"the {kind_text(m.event_type).lower()} {m.channel} of {m.order_id} to "
                f"{mask_recipient(m.recipient)}")
