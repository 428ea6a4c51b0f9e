"""Runs the client's blocking calls off the GUI thread and reports back through Signals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal, Slot

from desktop.client import (
    ConsoleClient,
    OrderListing,
    error_message,
    is_denied,
    is_unavailable,
    iterate,
)
from desktop.pdf import merge_pdfs
from desktop.workers import Job, Stream
from tote.v1 import common_pb2, fulfillment_pb2

# States shown in the status bar.
CONNECTING, CONNECTED, DISCONNECTED = "connecting", "connected", "disconnected"
RECONNECT_DELAYS_S = (0.5, 1.0, 2.0, 4.0)
# Events of one order come in bursts (a saga step writes several): one GetOrder per burst.
REFRESH_DEBOUNCE_MS = 150


@dataclass
class LabelBatch:
    """A wave's labels in one PDF (one label per page), and the orders that had none."""

    pdf: bytes
    order_ids: list[str]
    tracking_numbers: list[str]
    failed: list[tuple[str, str]] = field(default_factory=list)  # (order_id, server's message)


class ConsoleController(QObject):
    """The only place the GUI reaches the server; every result arrives as a Signal."""

    connection_changed = Signal(str, str)  # state, detail
    error = Signal(str)  # the server's message
    orders_loaded = Signal(list)  # [Order]: every order in work, and the newest page
    older_orders_loaded = Signal(list)  # [Order]: the next page of history (load_older)
    history_changed = Signal(bool, bool)  # older orders left to load, a page on its way
    order_changed = Signal(object)  # Order (after an event or an assignment)
    order_event = Signal(object)  # OrderEvent from WatchOrders
    order_history_event = Signal(str, object)  # order_id, OrderEvent from WatchOrder
    routing_explained = Signal(str, object)  # order_id, RoutingDecision
    order_assigned = Signal(object)  # Order
    assign_refused = Signal(str, str)  # order_id, message
    order_cancelled = Signal(object)  # Order (CANCELLED, its payment voided or refunded)
    cancel_refused = Signal(str, str)  # order_id, message
    fcs_loaded = Signal(list)  # [FulfillmentCenter]
    stock_loaded = Signal(list)  # [StockLevel]
    fc_stock_loaded = Signal(str, str, list)  # order_id, fc_id, [StockLevel]
    stock_received = Signal(object)  # StockLevel
    receive_refused = Signal(str)  # message
    parcel_looked_up = Signal(str, object)  # tracking number, Shipment or None
    handed_off = Signal(object)  # Manifest
    hand_off_refused = Signal(str)  # message
    label_loaded = Signal(str, object)  # order_id, Label
    document_loaded = Signal(str, int, object)  # order_id, DocumentKind, Document
    batch_progress = Signal(int, int, str)  # labels fetched, of how many, the last order_id
    batch_ready = Signal(object)  # LabelBatch
    manifest_loaded = Signal(object)  # Manifest (GetManifest, for a reprint)
    throughput_loaded = Signal(str, list)  # fc_id ("" = every FC), [ThroughputBucket]
    zpl_sent = Signal(str, str)  # order_id, tracking number
    cod_loaded = Signal(str, object)  # carrier, CodReconciliation
    remittance_recorded = Signal(object)  # CodRemittance
    remittance_refused = Signal(str)  # message
    messages_loaded = Signal(str, list)  # order_id, [NotificationMessage] (oldest first)
    messages_refused = Signal(str, str, bool)  # order_id, message, PERMISSION_DENIED
    dead_letters_loaded = Signal(list)  # [NotificationMessage] (newest first)
    dead_letters_refused = Signal(str, bool)  # message, PERMISSION_DENIED
    resent = Signal(object)  # NotificationMessage (queued again)
    resend_refused = Signal(str, str, bool)  # message_id, message, PERMISSION_DENIED
    _job_done = Signal(object, object)
    _job_failed = Signal(object, object)
    _stream_state_signal = Signal(str, str)

    def __init__(self, client: ConsoleClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(4)
        self.state = CONNECTING
        self.last_event_id = ""
        self._watch: Stream | None = None
        self._history: Stream | None = None
        self._old_histories: list[Stream] = []  # cancelled, maybe not yet ended
        self._jobs: set[Job] = set()
        self._stale_orders: set[str] = set()  # an event arrived; GetOrder not yet sent
        self._fetching_orders: set[str] = set()  # GetOrder in flight
        self._stock_asked = 0  # GetStock calls sent; only the latest one's answer is shown
        self._listing = 0  # load_orders calls; an older page of an earlier listing is dropped
        self._older_token = ""  # the next older page of the listing shown ("": none)
        self._loading_older = False
        self._refresh_timer = QTimer(self, singleShot=True, interval=REFRESH_DEBOUNCE_MS)
        self._refresh_timer.timeout.connect(self._refresh_stale_orders)
        self._job_done.connect(self._deliver)
        self._job_failed.connect(self._deliver_failure)
        self._stream_state_signal.connect(self._stream_state)

    # -- plumbing -------------------------------------------------------------------------------

    def _submit(self, fn: Callable[[], Any], on_done: Callable[[Any], None],
                on_failed: Callable[[BaseException], None] | None = None) -> None:
        job = Job(fn, on_done, on_failed or self._report, self._job_done, self._job_failed)
        job.setAutoDelete(False)
        self._jobs.add(job)  # alive until its outcome is delivered
        self.pool.start(job)

    @Slot(object, object)
    def _deliver(self, job: Job, result: Any) -> None:
        self._jobs.discard(job)
        self._set_state(CONNECTED, self.client.address)
        job.on_done(result)

    @Slot(object, object)
    def _deliver_failure(self, job: Job, exc: BaseException) -> None:
        self._jobs.discard(job)
        if is_unavailable(exc):
            self._set_state(DISCONNECTED, error_message(exc))
        job.on_failed(exc)

    def _report(self, exc: BaseException) -> None:
        self.error.emit(error_message(exc))

    def _set_state(self, state: str, detail: str) -> None:
        if state != self.state:
            self.state = state
            self.connection_changed.emit(state, detail)

    @Slot(str, str)
    def _stream_state(self, state: str, detail: str) -> None:
        self._set_state(state, detail)


    def busy(self) -> bool:
        """True while a call is in flight (tests wait on it)."""
        return bool(self._jobs)

    # -- calls ----------------------------------------------------------------------------------

    @Slot()
    def load_orders(self) -> None:
        """Every order in work and the newest page of history (orders_loaded), never all."""
        self._listing += 1
        listing = self._listing

        def done(result: OrderListing) -> None:
            if listing != self._listing:  # an F5 since: its answer is the one shown
                return
            self._older_token, self._loading_older = result.older_page_token, False
            self.orders_loaded.emit(result.orders)
            self._history_changed()

        self._submit(self.client.opening_orders, done)

    @Slot()
    def load_older(self) -> None:
        """The next page of older orders (older_orders_loaded), once none is on its way."""
        if not self._older_token or self._loading_older:
            return
        listing, token = self._listing, self._older_token
        self._loading_older = True
        self._history_changed()

        def done(result: OrderListing) -> None:
            if listing != self._listing:
                return
            self._older_token, self._loading_older = result.older_page_token, False
            self.older_orders_loaded.emit(result.orders)
            self._history_changed()

        def failed(exc: BaseException) -> None:
            if listing == self._listing:
                self._loading_older = False
                self._history_changed()
            self._report(exc)

        self._submit(partial(self.client.order_page, token), done, failed)

    def _history_changed(self) -> None:
        self.history_changed.emit(bool(self._older_token), self._loading_older)

    @Slot(str)
    def refresh_order(self, order_id: str) -> None:
        """GetOrder soon: a burst of events for one order is read once, after the burst."""
        self._stale_orders.add(order_id)
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    @Slot()
    def _refresh_stale_orders(self) -> None:
        # One GetOrder in flight per order; events during it are read by the next one.
        for order_id in sorted(self._stale_orders - self._fetching_orders):
            self._stale_orders.discard(order_id)
            self._fetching_orders.add(order_id)
            self._submit(partial(self.client.get_order, order_id),
                         partial(self._order_fetched, order_id),
                         partial(self._order_fetched, order_id, None))

    def _order_fetched(self, order_id: str, order: Any, exc: BaseException | None = None
                       ) -> None:
        self._fetching_orders.discard(order_id)
        if order_id in self._stale_orders and not self._refresh_timer.isActive():
            self._refresh_timer.start()
        if exc is not None:
            self._report(exc)
        else:
            self.order_changed.emit(order)

    @Slot(str)
    def explain_routing(self, order_id: str) -> None:
        self._submit(lambda: self.client.explain_routing(order_id),
                     lambda d: self.routing_explained.emit(order_id, d))

    @Slot(str, str)
    def assign_order(self, order_id: str, fc_id: str) -> None:
        def done(order: Any) -> None:
            self.order_assigned.emit(order)
            self.order_changed.emit(order)

        self._submit(lambda: self.client.assign_order(order_id, fc_id), done,
                     lambda exc: self.assign_refused.emit(order_id, error_message(exc)))

    @Slot(str, str)
    def cancel_order(self, order_id: str, reason: str) -> None:
        """CancelOrder; the server voids or refunds at the gateway before it answers."""
        def done(order: Any) -> None:
            self.order_cancelled.emit(order)
            self.order_changed.emit(order)

        self._submit(lambda: self.client.cancel_order(order_id, reason), done,
                     lambda exc: self.cancel_refused.emit(order_id, error_message(exc)))

    @Slot()
    def load_fcs(self) -> None:
        self._submit(self.client.list_fcs, self.fcs_loaded.emit)

    @Slot()
    def load_stock(self) -> None:
        self._stock_asked += 1
        asked = self._stock_asked

        def done(levels: list[Any]) -> None:
            # Answers can overtake each other in the pool: an older one would show old stock.
            if asked == self._stock_asked:
                self.stock_loaded.emit(levels)

        self._submit(self.client.get_stock, done)

    @Slot(str, str)
    def load_fc_stock(self, order_id: str, fc_id: str) -> None:
        """The stock at one FC, for the assignment's confirmation."""
        self._submit(lambda: self.client.get_stock("", fc_id),
                     lambda levels: self.fc_stock_loaded.emit(order_id, fc_id, levels))

    @Slot(str, str, int, str)
    def receive_stock(self, fc_id: str, sku: str, quantity: int, bin_code: str) -> None:
        self._submit(lambda: self.client.receive_stock(fc_id, sku, quantity, bin_code),
                     self.stock_received.emit,
                     lambda exc: self.receive_refused.emit(error_message(exc)))

    def load_label(self, order_id: str, fmt: common_pb2.LabelFormat) -> None:
        self._submit(lambda: self.client.get_label(order_id, fmt),
                     lambda label: self.label_loaded.emit(order_id, label))

    def load_document(self, order_id: str, kind: fulfillment_pb2.DocumentKind) -> None:
        """GetOrderDocument: the pick list or packing slip (DOCUMENT_KIND_*)."""
        self._submit(lambda: self.client.get_order_document(order_id, kind),
                     lambda doc: self.document_loaded.emit(order_id, kind, doc))

    def load_label_batch(self, order_ids: list[str]) -> None:
        """Every order's PDF label, fetched one by one (progress reported), merged into one."""
        order_ids = list(order_ids)

        def fetch() -> LabelBatch:
            contents, done_ids, numbers, failed = [], [], [], []
            for n, order_id in enumerate(order_ids, 1):
                try:
                    label = self.client.get_label(order_id, common_pb2.LABEL_FORMAT_PDF)
                except Exception as exc:  # that order is listed; the rest still print
                    if is_unavailable(exc):
                        raise
                    failed.append((order_id, error_message(exc)))
                else:
                    contents.append(label.content)
                    done_ids.append(order_id)
                    numbers.append(label.tracking_number)
                # Emitted from the pool thread: queued to the views in the GUI thread.
                self.batch_progress.emit(n, len(order_ids), order_id)
            return LabelBatch(merge_pdfs(contents) if contents else b"", done_ids, numbers,
                              failed)

        self._submit(fetch, self.batch_ready.emit)

    @Slot(str)
    def load_manifest(self, manifest_id: str) -> None:
        self._submit(lambda: self.client.get_manifest(manifest_id), self.manifest_loaded.emit)

    @Slot(str, int)
    def load_throughput(self, fc_id: str, hours: int) -> None:
        self._submit(lambda: self.client.get_throughput(fc_id, hours),
                     lambda buckets: self.throughput_loaded.emit(fc_id, buckets))

    def send_zpl(self, order_id: str, host: str, port: int) -> None:
        self._submit(lambda: self.client.send_zpl(order_id, host, port),
                     lambda tracking: self.zpl_sent.emit(order_id, tracking))

    @Slot(str)
    def lookup_parcel(self, tracking_number: str) -> None:
        self._submit(lambda: self.client.packed_parcel(tracking_number),
                     lambda parcel: self.parcel_looked_up.emit(tracking_number, parcel))

    def hand_off(self, carrier: str, tracking_numbers: list[str]) -> None:
        self._submit(lambda: self.client.hand_off(carrier, tracking_numbers),
                     self.handed_off.emit,
                     lambda exc: self.hand_off_refused.emit(error_message(exc)))

    @Slot(str)
    def load_cod(self, carrier: str) -> None:
        self._submit(lambda: self.client.cod_reconciliation(carrier),
                     lambda rec: self.cod_loaded.emit(carrier, rec))

    def record_remittance(self, carrier: str, reference: str, amount: Any,
                          tracking_numbers: list[str]) -> None:
        def done(remittance: Any) -> None:
            self.remittance_recorded.emit(remittance)
            self.load_cod(carrier)  # the reconciliation it changed

        self._submit(lambda: self.client.record_cod_remittance(carrier, reference, amount,
                                                               tracking_numbers), done,
                     lambda exc: self.remittance_refused.emit(error_message(exc)))

    # -- customer notifications ---------------------------------------------------------------

    @Slot(str)
    def load_messages(self, order_id: str) -> None:
        """ListMessages: what the customer was sent about the order (messages_loaded)."""
        self._submit(lambda: self.client.list_messages(order_id),
                     lambda messages: self.messages_loaded.emit(order_id, messages),
                     lambda exc: self.messages_refused.emit(order_id, error_message(exc),
                                                            is_denied(exc)))

    @Slot()
    def load_dead_letters(self) -> None:
        """ListDeadLetters (supervisors only: a refusal says whether the role is why)."""
        self._submit(self.client.list_dead_letters, self.dead_letters_loaded.emit,
                     lambda exc: self.dead_letters_refused.emit(error_message(exc),
                                                                is_denied(exc)))

    @Slot(str)
    def resend(self, message_id: str) -> None:
        self._submit(lambda: self.client.resend(message_id), self.resent.emit,
                     lambda exc: self.resend_refused.emit(message_id, error_message(exc),
                                                          is_denied(exc)))

    # -- streams --------------------------------------------------------------------------------

    def start_watching(self) -> None:
        """WatchOrders from now on, resuming after the last event seen when the stream drops."""
        if self._watch is not None:
            return
        stream = self._watch = Stream()
        stream.start(lambda: self._watch_loop(stream), "tote-watch-orders")

    def _watch_loop(self, stream: Stream) -> None:
        attempt = 0
        while not stream.stopped.is_set():
            call = self.client.watch_orders("", self.last_event_id)
            if not stream.attach(call):
                return
            try:
                # A stream says nothing until an event happens: the channel's state tells us
                # the connection is up before then.
                self.connection_changed_from_thread(CONNECTED, self.client.address)
                for event in iterate(call):
                    attempt = 0
                    self.last_event_id = event.event_id
                    self.order_event.emit(event)
                return
            except Exception as exc:  # the server went away: say so, wait, resume
                # A stream that fell behind is told where to resume (on PostgreSQL possibly
                # before the last event seen: an event committed out of id order).
                trailing = getattr(exc, "trailing_metadata", lambda: None)() or ()
                self.last_event_id = dict(trailing).get("tote-resume-after",
                                                        self.last_event_id)
                self.connection_changed_from_thread(DISCONNECTED, error_message(exc))
            delay = RECONNECT_DELAYS_S[min(attempt, len(RECONNECT_DELAYS_S) - 1)]
            attempt += 1
            if stream.stopped.wait(delay):
                return

    def connection_changed_from_thread(self, state: str, detail: str) -> None:
        # Signals emitted from a plain thread are queued to the controller's (GUI) thread.
        self._stream_state_signal.emit(state, detail)

    def watch_order(self, order_id: str) -> None:
        """One order's history then its live events, replacing the previous order's stream."""
        if self._history is not None:
            self._history.cancel()
            self._old_histories = [s for s in self._old_histories
                                   if s.thread is not None and s.thread.is_alive()]
            self._old_histories.append(self._history)
        stream = self._history = Stream()

        def run() -> None:
            # WatchOrder replays the order's history first: after the server (or the
            # replica) went away, watching again brings back what was shown, and only the
            # events not seen yet go on to the timeline.
            seen: set[str] = set()
            attempt = 0
            while not stream.stopped.is_set():
                call = self.client.watch_order(order_id)
                if not stream.attach(call):
                    return
                try:
                    for event in iterate(call):
                        attempt = 0
                        if event.event_id not in seen:
                            seen.add(event.event_id)
                            self.order_history_event.emit(order_id, event)
                    return  # the order's story ended (delivered or cancelled)
                except Exception as exc:  # the server went away: say so, wait, watch again
                    if stream.stopped.is_set():
                        return
                    if attempt == 0:
                        self.error.emit(error_message(exc))
                delay = RECONNECT_DELAYS_S[min(attempt, len(RECONNECT_DELAYS_S) - 1)]
                attempt += 1
                if stream.stopped.wait(delay):
                    return

        stream.start(run, "tote-watch-order")

    def stop(self) -> None:
        """Cancel the streams and wait for calls in flight (at shutdown)."""
        streams = [s for s in (self._watch, self._history, *self._old_histories) if s]
        for stream in streams:
            stream.cancel()
        for stream in streams:
            if stream.thread is not None:
                stream.thread.join(5)
        self._watch = self._history = None
        self._old_histories.clear()
        self._refresh_timer.stop()
        self.pool.waitForDone(5000)
