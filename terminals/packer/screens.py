"""The pack screen: scan an order, type the weight and box, pack, print the label."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from terminals.client import TerminalError
from terminals.printer import PrinterError

PROMPTS = {"order": "SCAN ORDER", "weight": "WEIGHT (grams)", "box": "BOX (S / M / L)",
           "packing": "PACKING…"}


class PackScreen(Screen[None]):
    """One order at a time; every refusal says what to do next."""

    BINDINGS = [Binding("escape", "start_over", "Start over"),
                Binding("ctrl+q", "app.quit", "Quit")]

    class Packed(Message):
        def __init__(self, order_id: str, result=None, printed: str = "",  # type: ignore[no-untyped-def]
                     error: str = "", kind: str = "") -> None:
            super().__init__()
            self.order_id, self.result, self.printed = order_id, result, printed
            self.error, self.kind = error, kind

    def __init__(self) -> None:
        super().__init__()
        self.step, self.order_id, self.weight, self.box = "order", "", 0, ""

    def compose(self) -> ComposeResult:
        yield Static("", id="title")
        yield Static("", id="step")
        with Vertical(id="body"):
            yield Static("", id="order")
            yield Static("", id="feedback")
        yield Input(id="entry")
        yield Footer()

    def on_mount(self) -> None:
        self.go("order")

    def say(self, text: str, kind: str = "info") -> None:
        feedback = self.query_one("#feedback", Static)
        feedback.update(text)
        feedback.set_classes(kind)

    def go(self, step: str, value: str = "") -> None:
        self.step = step
        app = self.app
        self.query_one("#title", Static).update(f"{app.fc_id} · {app.operator}")  # type: ignore[attr-defined]
        self.query_one("#step", Static).update(PROMPTS[step])
        parts = [f"order {self.order_id}" if self.order_id else "",
                 f"{self.weight} g" if self.weight else "", f"box {self.box}" if self.box else ""]
        self.query_one("#order", Static).update(" · ".join(p for p in parts if p))
        entry = self.query_one("#entry", Input)
        entry.value = value
        entry.focus()

    def action_start_over(self) -> None:
        if self.step != "packing":
            self.order_id, self.weight, self.box = "", 0, ""
            self.say("")
            self.go("order")

    @on(Input.Submitted, "#entry")
    def entered(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        event.input.clear()
        if self.step == "order" and value:
            self.order_id, self.weight, self.box = value, 0, ""
            self.say("")
            self.go("weight")
        elif self.step == "weight":
            if not (value.isdigit() and 0 < int(value) <= 1_000_000):
                self.app.bell()
                self.say(f"weight must be whole grams, scanned {value!r}", "bad")
                return
            self.weight = int(value)
            self.go("box", self.box or "M")
        elif self.step == "box" and value:
            self.box = value.upper()
            self.go("packing")
            self.say(f"packing {self.order_id}…")
            self.pack(self.order_id, self.weight, self.box)

    @work(thread=True, exclusive=True, group="pack")
    def pack(self, order_id: str, weight: int, box: str) -> None:
        app = self.app
        try:
            result = app.client.pack_order(order_id, weight, box)  # type: ignore[attr-defined]
        except TerminalError as exc:
            kind = "offline" if exc.offline else "refused"
            self.post_message(self.Packed(order_id, error=exc.message, kind=kind))
            return
        try:
            printed = app.printer.print(result.label)  # type: ignore[attr-defined]
        except PrinterError as exc:
            self.post_message(self.Packed(order_id, result, error=str(exc), kind="printer"))
            return
        self.post_message(self.Packed(order_id, result, printed))

    def on_pack_screen_packed(self, message: Packed) -> None:
        order = message.result.order if message.result is not None else None
        if order is not None:
            done = f"PACKED {message.order_id} · {order.carrier} {order.tracking_number}"
            if message.kind == "printer":
                self.app.bell()
                self.say(f"{done}\nlabel NOT printed: {message.error}; "
                         "ask a supervisor to reprint it", "bad")
            else:
                self.say(f"{done}\nlabel → {message.printed}", "ok")
            self.order_id, self.weight, self.box = "", 0, ""
            self.go("order")
            return
        self.app.bell()
        if message.kind == "offline":
            self.say(f"{message.error}\nnext: Enter to try again when the link is back", "bad")
            self.go("box", self.box)
        else:
            self.say(f"server refused: {message.error}\n"
                     "next: weigh again and type the weight, or Esc for another order", "bad")
            self.go("weight")
