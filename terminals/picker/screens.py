"""Sign-in, pick and short-pick screens of the picker."""

from __future__ import annotations

import threading
import time
import uuid
from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

from terminals.client import TerminalError
from terminals.outbox import Outbox, Scan, Short
from terminals.picker.task import Task, bin_code, gtin14
from terminals.words import count

if TYPE_CHECKING:
    from terminals.picker.app import PickerApp
    from tote.v1 import fulfillment_pb2 as fpb

# How long the sender waits before trying a scan again while the link is down.
RETRY_S = 1.0


class PickScreen(Screen[None]):
    """One task at a time: the bin, the item, how many; every scan answers at once."""

    BINDINGS = [Binding("f2", "short_pick", "Short"), Binding("f5", "next_task", "Next task"),
                Binding("ctrl+q", "app.quit", "Quit")]

    class TaskFetched(Message):
        def __init__(self, task: fpb.PickTask | None, error: str = "") -> None:
            super().__init__()
            self.pick_task, self.error = task, error

    class Answered(Message):
        """The server's reply to a queued scan or short pick (reply or error)."""

        def __init__(self, item: Scan | Short,
                     reply: fpb.ScanResult | fpb.ReportShortPickResponse | None = None,
                     error: TerminalError | None = None) -> None:
            super().__init__()
            self.item, self.reply, self.error = item, reply, error

    class LinkState(Message):
        def __init__(self, offline: str) -> None:
            super().__init__()
            self.offline = offline

    def __init__(self) -> None:
        super().__init__()
        self.pick_task: Task | None = None
        self.wake = threading.Event()  # a scan was queued: the sender looks at once
        self.offline = ""
        # "take the tote … to packing": stays on screen while the next task is fetched
        self.handoff = ""

    def compose(self) -> ComposeResult:
        yield Static("", id="title")
        yield Static("", id="bin")
        with Vertical(id="body"):
            yield Static("", id="name")
            yield Static("", id="item")
            yield Static("", id="qty")
            yield Static("", id="progress")
            yield Static("", id="feedback")
        yield Input(placeholder="scan item", id="scan")
        yield Footer()

    @property
    def picker(self) -> PickerApp:
        """This screen's app, typed (Textual types `self.app` as any App): its client,
        FC and operator."""
        return cast("PickerApp", self.app)

    @property
    def operator(self) -> str:
        return self.picker.operator

    @property
    def outbox(self) -> Outbox:
        return self.picker.outbox

    @property
    def waiting(self) -> int:
        return int(self.outbox.count())

    def on_mount(self) -> None:
        self.query_one("#scan", Input).focus()
        self.send_outbox()
        held = self.outbox.held()
        if held is None:
            self.action_next_task()
            return
        # Resumed after a restart: the confirmed counts plus what is still waiting to be sent.
        self.pick_task = Task.of(held)
        for item in self.outbox.items():
            line = self.pick_task.line(item.line_id)
            if line is None:
                continue
            if isinstance(item, Scan):
                line.picked += 1
            else:
                line.missing = item.missing
        self.say(f"resumed task for {self.pick_task.orders()}")
        self.show()

    # -- showing ----------------------------------------------------------------------------

    def say(self, text: str, kind: str = "info") -> None:
        feedback = self.query_one("#feedback", Static)
        feedback.update(text)
        feedback.set_classes(kind)

    def show(self) -> None:
        app = self.picker
        title = self.query_one("#title", Static)
        # Offline first: on a 40-column handheld the end of the line is cut off.
        status = f"offline — {count(self.waiting, 'scan')} waiting · " if self.offline else ""
        title.update(f"{status}{app.fc_id} · {app.operator}")
        title.set_class(bool(self.offline), "offline")
        task = self.pick_task
        line = task.current if task else None
        want_bin = task.bin_to_confirm if task else None
        self.query_one("#scan", Input).placeholder = (
            "scan the bin label" if want_bin else "scan item")
        self.query_one("#name", Static).display = line is not None  # its bar only with a name
        if line is None:
            for name in ("#bin", "#name", "#item", "#qty", "#progress"):
                self.query_one(name, Static).update("")
            if task is not None:  # all scanned here, not all answered yet
                self.query_one("#bin", Static).update("ALL PICKED")
                self.query_one("#qty", Static).update(
                    f"waiting for the server: {count(self.waiting, 'scan')}")
                self.query_one("#progress", Static).update(task.progress())
            return
        assert task is not None
        bin_ = self.query_one("#bin", Static)
        if want_bin:
            bin_.update(f"SCAN BIN LABEL {line.bin}")
        else:
            bin_.update(f"BIN {line.bin}" + (" ✓" if task.confirm_bin_scan else ""))
        bin_.set_class(bool(want_bin), "confirm")
        self.query_one("#name", Static).update(line.title)
        self.query_one("#item", Static).update(f"GTIN {line.gtin} · {line.sku}")
        self.query_one("#qty", Static).update(f"take {line.left} of {line.quantity}")
        self.query_one("#progress", Static).update(task.progress())

    # -- tasks ------------------------------------------------------------------------------

    def action_next_task(self) -> None:
        if self.pick_task is not None and not self.pick_task.done:
            return
        self.fetch_task()

    @work(thread=True, exclusive=True, group="fetch")
    def fetch_task(self) -> None:
        try:
            task = self.picker.client.next_task(self.picker.fc_id)
        except TerminalError as exc:
            self.post_message(self.TaskFetched(None, exc.message))
            return
        self.post_message(self.TaskFetched(task))

    def on_pick_screen_task_fetched(self, message: TaskFetched) -> None:
        if message.error:
            self.say(f"{message.error}\nF5: try again", "bad")
            self.app.bell()
        elif message.pick_task is None:
            self.pick_task = None
            if self.handoff:
                self.say(f"{self.handoff}\nno work waiting · F5: look again", "ok")
            else:
                self.say("no work waiting · F5: look again")
        else:
            self.outbox.hold(message.pick_task)
            self.pick_task = Task.of(message.pick_task)
            # The tote first: on a 40-column handheld the order ids run on for lines.
            tote = f"tote {self.pick_task.tote_code}: " if self.pick_task.tote_code else ""
            self.say(self.handoff or f"{tote}new task for {self.pick_task.orders()}",
                     "ok" if self.handoff else "info")
        self.handoff = ""
        self.show()

    # -- scans ------------------------------------------------------------------------------

    @on(Input.Submitted, "#scan")
    def scanned(self, event: Input.Submitted) -> None:
        barcode = event.value.strip()
        event.input.clear()
        if not barcode:
            return
        task = self.pick_task
        if task is None or task.done:
            self.app.bell()
            self.say(f"no task in hand; scanned {barcode}\nF5: look for work", "bad")
            return
        if self.bin_label(task, barcode):
            return
        line = task.match(barcode)
        if line is None:
            want = task.current
            assert want is not None
            self.app.bell()
            self.say(f"WRONG: expected {want.gtin} ({want.title}) from bin {want.bin}, "
                     f"scanned {barcode}", "bad")
            return
        line.picked += 1
        self.say(f"✓ {line.title} · {line.left} left on this line", "ok")
        self.queue(Scan(task.task_id, barcode, uuid.uuid4().hex, line.line_id, self.operator))
        self.show()

    def bin_label(self, task: Task, barcode: str) -> bool:
        """Bin-label confirmation (when the FC wants it), all local: True when the scan was
        answered here (a bin label, or a unit scanned before its bin was confirmed)."""
        want = task.bin_to_confirm
        if want is None:
            if task.is_confirmed_bin(barcode) and task.current is not None:
                self.say(f"bin {task.current.bin} already confirmed · scan the item")
                return True
            return False
        line = task.current
        assert line is not None
        if bin_code(barcode) == bin_code(want):
            task.confirmed_bin = bin_code(want)
            self.say(f"✓ bin {want} · take {line.left} × {line.title}", "ok")
            self.show()
            return True
        self.app.bell()
        if gtin14(barcode) is not None:
            self.say(f"scan the bin label of {want} first (scanned item {barcode})", "bad")
        else:
            self.say(f"WRONG BIN: expected bin {want}, scanned {barcode}", "bad")
        return True

    def queue(self, item: Scan | Short) -> None:
        self.outbox.put(item)
        self.wake.set()

    @work(thread=True, group="send")
    def send_outbox(self) -> None:
        """Send scans and short picks one at a time, in order; retry while the link is down."""
        worker = get_current_worker()
        client = self.picker.client
        while not worker.is_cancelled:
            oldest = self.outbox.oldest()
            if oldest is None:
                self.wake.wait(0.1)
                self.wake.clear()
                continue
            seq, item = oldest
            while not worker.is_cancelled:
                reply: fpb.ScanResult | fpb.ReportShortPickResponse
                try:
                    if isinstance(item, Scan):
                        reply = client.scan(item.task_id, item.barcode, item.scan_id,
                                            item.operator_id)
                    else:
                        reply = client.short_pick(item.task_id, item.line_id, item.missing,
                                                  item.operator_id)
                except TerminalError as exc:
                    if exc.offline:
                        self.post_message(self.LinkState(exc.message))
                        time.sleep(RETRY_S)
                        continue
                    self.outbox.done(seq)
                    self.post_message(self.Answered(item, error=exc))
                else:
                    self.outbox.done(seq)
                    self.post_message(self.Answered(item, reply))
                break

    def on_pick_screen_link_state(self, message: LinkState) -> None:
        self.offline = message.offline
        self.show()

    def on_pick_screen_answered(self, message: Answered) -> None:
        self.offline = ""
        item, task = message.item, self.pick_task
        if task is None or item.task_id != task.task_id:
            return
        held = self.outbox.held()
        if message.reply is not None and held is not None and held.task_id == task.task_id:
            confirmed = message.reply.line
            for held_line in held.lines:
                if held_line.line_id == confirmed.line_id:
                    held_line.picked, held_line.missing = confirmed.picked, confirmed.missing
            self.outbox.hold(held)
        line = task.line(item.line_id)
        if message.error is not None:
            if isinstance(item, Scan) and line is not None:
                line.picked -= 1
            self.app.bell()
            self.say(f"server refused: {message.error.message}", "bad")
        elif isinstance(item, Short) and line is not None and message.reply is not None:
            line.missing = message.reply.line.missing
            self.say(f"short pick reported: {line.missing} × {line.title} missing")
        if message.reply is not None and message.reply.task_complete and self.waiting == 0:
            self.handoff = (f"task complete: take tote {task.tote} to packing "
                            f"({task.orders()})")
            self.say(self.handoff, "ok")
            self.pick_task = None
            self.outbox.hold(None)
            self.fetch_task()
        self.show()

    # -- short pick -------------------------------------------------------------------------

    def action_short_pick(self) -> None:
        task = self.pick_task
        line = task.current if task else None
        if task is None or line is None:
            self.app.bell()
            return
        want_bin = task.bin_to_confirm
        if want_bin:  # a short is a claim about the shelf: be at the shelf first
            self.app.bell()
            self.say(f"scan the bin label of {want_bin} first, then F2", "bad")
            return
        task_id, line_id = task.task_id, line.line_id

        def reported(missing: int | None) -> None:
            self.query_one("#scan", Input).focus()
            if not missing or self.pick_task is None or self.pick_task.task_id != task_id:
                return
            short_line = self.pick_task.line(line_id)
            assert short_line is not None
            short_line.missing += missing
            self.queue(Short(task_id, line_id, short_line.missing, self.operator))
            self.say(f"reporting {missing} × {short_line.title} missing…")
            self.show()

        self.app.push_screen(ShortPickScreen(line.title, line.bin, line.left), reported)


class ShortPickScreen(ModalScreen[int | None]):
    """How many units are not on the shelf; Enter twice to confirm, Esc to cancel."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, what: str, bin_: str, left: int) -> None:
        super().__init__()
        self.what, self.bin, self.left = what, bin_, left
        self.pending: int | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="short-box"):
            yield Static(f"SHORT PICK {self.what} in bin {self.bin}\n"
                         f"how many are missing? (1–{self.left})", id="short-help")
            yield Input(str(self.left), id="missing", type="integer")
            yield Footer()

    def on_mount(self) -> None:
        self.query_one("#missing", Input).focus()

    @on(Input.Submitted, "#missing")
    def submitted(self, event: Input.Submitted) -> None:
        help_ = self.query_one("#short-help", Static)
        try:
            missing = int(event.value)
        except ValueError:
            missing = 0
        if not 1 <= missing <= self.left:
            self.app.bell()
            help_.update(f"enter how many × {self.what} are missing (1–{self.left})")
            self.pending = None
            return
        if self.pending == missing:
            self.dismiss(missing)
            return
        self.pending = missing
        help_.update(f"{missing} × {self.what} missing from bin {self.bin}?\n"
                     "Enter: confirm · Esc: cancel")

    def action_cancel(self) -> None:
        self.dismiss(None)
