"""The pack screen: scan a tote or order, scan each unit into the box, weigh, pack, print."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from terminals.client import TerminalError
from terminals.packer import weight
from terminals.packer.box import READY, Box
from terminals.printer import PrinterError
from terminals.words import count

if TYPE_CHECKING:
    from terminals.packer.app import PackerApp
    from tote.v1 import fulfillment_pb2 as fpb

BOXES = ("S", "M", "L")  # the packing station's cartons (the server knows their tare)
PROMPTS = {"order": "SCAN TOTE OR ORDER", "loading": "LOOKING UP…",
           "units": "SCAN EACH UNIT INTO THE BOX", "weight": "WEIGHT (grams)",
           "box": "BOX (S / M / L)", "packing": "PACKING…"}


class PackScreen(Screen[None]):
    """One shipment at a time (a tote's shipments one after another); every unit is checked
    against the pack list, and every refusal says what to do next."""

    BINDINGS = [Binding("f3", "problem", "Problem"),
                Binding("escape", "start_over", "Start over"),
                Binding("ctrl+q", "app.quit", "Quit")]

    class Listed(Message):
        """GetPackList's answer for a scanned code (or why there is none)."""

        def __init__(self, code: str, lists: Iterable[fpb.PackList] = (), error: str = ""
                     ) -> None:
            super().__init__()
            self.code, self.lists, self.error = code, list(lists), error

    class Packed(Message):
        def __init__(self, order_id: str, result: fpb.PackResult | None = None, printed: str = "",
                     error: str = "", kind: str = "") -> None:
            super().__init__()
            self.order_id, self.result, self.printed = order_id, result, printed
            self.error, self.kind = error, kind

    class Weighed(Message):
        """A stable reading from the station's scale."""

        def __init__(self, grams: int) -> None:
            super().__init__()
            self.grams = grams

    def __init__(self) -> None:
        super().__init__()
        self.step, self.weight, self.box_size = "order", 0, ""
        self.box: Box | None = None
        self.queue: list[Box] = []  # the tote's other shipments, packed after this one
        self.short_confirm = False  # F3 pressed once: a second F3 sets the box aside
        self.scale_grams = 0  # the scale's latest stable reading

    @property
    def packer(self) -> PackerApp:
        """This screen's app, typed (Textual types `self.app` as any App): its client,
        FC and operator."""
        return cast("PackerApp", self.app)

    @property
    def order_id(self) -> str:
        return self.box.order_id if self.box else ""

    def compose(self) -> ComposeResult:
        yield Static("", id="title")
        yield Static("", id="step")
        with Vertical(id="body"):
            yield Static("", id="order")
            yield Static("", id="lines")
            yield Static("", id="feedback")
        yield Input(id="entry")
        yield Footer()

    def on_mount(self) -> None:
        self.go("order")
        if getattr(self.app, "scale", None) is not None:
            self.read_scale()

    def say(self, text: str, kind: str = "info") -> None:
        feedback = self.query_one("#feedback", Static)
        feedback.update(text)
        feedback.set_classes(kind)

    def go(self, step: str, value: str = "") -> None:
        self.step = step
        self.refresh_bindings()  # F3 is shown while units go into the box only
        self.show()
        entry = self.query_one("#entry", Input)
        entry.value = value
        entry.select_all()  # a prefilled box or scale weight: typing replaces it
        entry.placeholder = {"order": "tote or order barcode", "units": "unit barcode",
                             "weight": "grams", "box": "S, M or L"}.get(step, "")
        entry.focus()

    def show(self) -> None:
        app, box = self.packer, self.box
        scale = f" · scale {self.scale_grams} g" if self.scale_grams else ""
        self.query_one("#title", Static).update(f"{app.fc_id} · {app.operator}{scale}")
        prompt = PROMPTS[self.step]
        if self.step == "weight" and box is not None:
            prompt = f"WEIGHT (g) · items {box.expected_weight_grams} g + box"
        self.query_one("#step", Static).update(prompt)
        parts = []
        if box is not None:
            parts.append(box.order_id)
            parts.append(f"{box.packed}/{count(box.units, 'unit')}")
            if self.queue:
                parts.append(f"+{len(self.queue)} in tote")
        parts += [f"{self.weight} g" if self.weight else "", f"box {self.box_size}"
                  if self.box_size else ""]
        self.query_one("#order", Static).update(" · ".join(p for p in parts if p))
        lines = self.query_one("#lines", Static)
        lines.update(self.lines_text())
        lines.display = self.step == "units"  # else the feedback has the room

    def lines_text(self) -> Text:
        """One row per line, the ones still to pack first: packed/quantity, GTIN, name."""
        if self.box is None or self.step != "units":
            return Text("")
        rows = sorted(self.box.lines, key=lambda ln: ln.complete)
        return Text("\n").join(
            Text(f"{ln.packed}/{ln.quantity} {ln.gtin} {ln.title}",
                 style="green" if ln.complete else "bold") for ln in rows)

    def action_start_over(self) -> None:
        if self.step != "packing":
            self.box, self.queue, self.weight, self.box_size = None, [], 0, ""
            self.short_confirm = False
            self.say("")
            self.go("order")

    # -- the tote or order ------------------------------------------------------------------

    @on(Input.Submitted, "#entry")
    def entered(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        event.input.clear()
        if self.step == "order" and value:
            self.go("loading")
            self.say(f"looking up {value}…")
            self.look_up(value)
        elif self.step == "units" and value:
            self.put(value)
        elif self.step == "weight":
            self.weighed(value)
        elif self.step == "box" and value:
            assert self.box is not None
            if value.upper() not in BOXES:
                self.not_a_box(value)
                return
            self.box_size = value.upper()
            self.go("packing")
            self.say(f"packing {self.order_id}…")
            self.pack(self.box.order_id, self.box.shipment_id, self.weight, self.box_size)

    @work(thread=True, exclusive=True, group="look-up")
    def look_up(self, code: str) -> None:
        try:
            lists = self.packer.client.pack_lists(code)
        except TerminalError as exc:
            self.post_message(self.Listed(code, error=exc.message))
            return
        self.post_message(self.Listed(code, lists))

    def on_pack_screen_listed(self, message: Listed) -> None:
        if self.step != "loading":
            return
        if message.error:
            self.app.bell()
            self.say(f"{message.error}\nnext: scan the tote or order again", "bad")
            self.go("order")
            return
        ready = [Box.of(pl) for pl in message.lists if pl.status in READY and pl.lines]
        if not ready:
            self.app.bell()
            states = ", ".join(f"{pl.shipment_id} {pl.status}" for pl in message.lists)
            self.say(f"nothing to pack in {message.code}" + (f" ({states})" if states else "")
                     + "\nnext: scan another tote or order", "bad")
            self.go("order")
            return
        self.box, self.queue = ready[0], ready[1:]
        more = (f" · {count(len(self.queue), 'more shipment')} in this tote" if self.queue
                else "")
        self.start_box(f"{count(self.box.units, 'unit')} to pack for {self.box.order_id}{more}")

    def start_box(self, text: str, kind: str = "info") -> None:
        self.weight, self.box_size, self.short_confirm = 0, "", False
        self.say(text, kind)
        self.go("units")

    # -- units into the box -----------------------------------------------------------------

    def put(self, barcode: str) -> None:
        assert self.box is not None
        self.short_confirm = False
        line, why = self.box.put(barcode)
        if line is None:
            self.app.bell()
            self.say(why, "bad")
            return
        if self.box.full:
            self.say(f"✓ {line.title} · {self.all_in()}: weigh it", "ok")
            self.to_weight()
            return
        self.say(f"✓ {line.title} · {line.packed}/{line.quantity}", "ok")
        self.show()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.step == "units" if action == "problem" else True

    def action_problem(self) -> None:
        """A unit is missing or damaged: the box is not packed short (the customer would be
        charged for it); the tote goes to the problem-solving desk and nothing is sent."""
        if self.step != "units" or self.box is None:
            return
        if not self.short_confirm:
            self.short_confirm = True
            self.app.bell()
            missing = self.box.missing
            self.say(f"{count(missing, 'unit')} {'is' if missing == 1 else 'are'} NOT in the "
                     "box.\n"
                     "F3 again: set it aside for the problem desk · scan a unit to go on", "bad")
            return
        missing_units = count(self.box.missing, "unit")
        text = (f"SET ASIDE {self.box.order_id}: {missing_units} missing, nothing packed"
                "\ntake the box and its tote to the problem-solving desk")
        self.next_box(text, "bad")

    def next_box(self, text: str, kind: str) -> None:
        """The tote's next shipment, or back to scanning a tote or order."""
        if self.queue:
            self.box, self.queue = self.queue[0], self.queue[1:]
            self.start_box(f"{text}\nnext in this tote: {self.box.order_id}", kind)
        else:
            self.box, self.weight, self.box_size = None, 0, ""
            self.say(text, kind)
            self.go("order")

    def all_in(self) -> str:
        assert self.box is not None
        units = self.box.units
        return "the 1 unit is in the box" if units == 1 else f"all {units} units are in the box"

    # -- the weight and the box -------------------------------------------------------------

    def weighed(self, value: str) -> None:
        """A weight moves on to the box; a barcode is refused: every unit is in already."""
        reading = weight.read(value)
        if reading.grams:
            self.weight = reading.grams
            self.say(f"{self.weight} g · box S, M or L, then Enter")
            self.go("box", self.box_size or "M")
            return
        self.app.bell()
        if reading.why:
            self.say(f"{reading.why}\nnext: type the weight in grams", "bad")
        else:
            self.scanned_when_full(reading.code, reading.is_gtin)
        self.go(self.step, str(self.scale_grams) if self.scale_grams else "")

    def scanned_when_full(self, code: str, is_unit: bool) -> None:
        """A code scanned after the last unit went in is one too many, not a weight."""
        if is_unit:
            assert self.box is not None
            then = "type the box: S, M or L" if self.step == "box" else "weigh the box"
            self.say(f"ONE TOO MANY: {self.all_in()} already; take {self.box.title_of(code)} "
                     f"out\nnext: {then}", "bad")
        else:
            self.say(f"NOT A WEIGHT: scanned {code} · {self.all_in()} already\n"
                     "next: weigh the box (grams, or 1.2 kg)", "bad")

    def not_a_box(self, value: str) -> None:
        self.app.bell()
        reading = weight.read(value)
        if reading.code and reading.is_gtin:
            self.scanned_when_full(value, True)
        else:
            self.say(f"box {value} is not S, M or L\nnext: type the box the units are in", "bad")
        self.go("box", self.box_size or "M")

    def to_weight(self) -> None:
        self.go("weight", str(self.scale_grams) if self.scale_grams else "")

    # -- the scale --------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="scale")
    def read_scale(self) -> None:
        from textual.worker import get_current_worker

        worker = get_current_worker()
        scale = self.packer.scale
        if scale is None:  # started only for a station with a scale
            return

        def weighed(grams: int) -> None:
            self.post_message(self.Weighed(grams))

        try:
            scale.run(weighed, lambda: worker.is_cancelled)
        except OSError as exc:
            self.app.call_from_thread(self.say, f"scale {scale.port}: {exc}\n"
                                                "type the weight instead", "bad")

    def on_pack_screen_weighed(self, message: Weighed) -> None:
        changed = message.grams != self.scale_grams
        self.scale_grams = message.grams
        if self.step == "weight" and changed and message.grams > 0:
            entry = self.query_one("#entry", Input)
            entry.value = str(message.grams)
            entry.select_all()
        self.show()

    # -- packing ----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="pack")
    def pack(self, order_id: str, shipment_id: str, weight: int, box: str) -> None:
        app = self.packer
        try:
            result = app.client.pack_order(order_id, weight, box, shipment_id)
        except TerminalError as exc:
            kind = "offline" if exc.offline else "refused"
            self.post_message(self.Packed(order_id, error=exc.message, kind=kind))
            return
        try:
            printed = app.printer.print(result.label)
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
                text, kind = (f"{done}\nlabel NOT printed: {message.error}; "
                              "ask a supervisor to reprint it"), "bad"
            else:
                text, kind = f"{done}\nlabel → {message.printed}", "ok"
            self.next_box(text, kind)
            return
        self.app.bell()
        if message.kind == "offline":
            self.say(f"{message.error}\nnext: Enter to try again when the link is back", "bad")
            self.go("box", self.box_size)
        else:
            self.say(f"server refused: {message.error}\n"
                     "next: weigh again and type the weight, or Esc for another order", "bad")
            self.go("weight", str(self.scale_grams) if self.scale_grams else "")
